//! Live delivery over the real server: SSE and WebSocket, resume, snapshot and reset,
//! signatures, many subscribers, metrics.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tryvoha_live::{PublicKey, verify_signed_json};

use crate::sse::{FrameExt, Next, SseFrame, SseStream};
use crate::support::{ADMIN, TestApp, not_checked};

const WAIT: Duration = Duration::from_secs(5);

pub(crate) async fn keys(app: &TestApp) -> Vec<PublicKey> {
    let keys = app.get("/api/v1/keys").await.body["keys"].clone();
    keys.as_array()
        .unwrap()
        .iter()
        .map(|k| PublicKey {
            kid: k["kid"].as_str().unwrap().into(),
            algorithm: "Ed25519",
            public_key: k["public_key"].as_str().unwrap().into(),
        })
        .collect()
}

/// Over a new connection the stream is written straight to the socket (close-delimited), and so
/// it is over a kept-alive connection: hyper hands the connection back when its next request is
/// the stream. Only a stream request that hyper has already read (pipelined) is served by hyper,
/// chunked (`a_pipelined_stream_request_is_served_through_hyper_the_same`).
#[tokio::test]
async fn a_hromada_subscriber_hears_its_oblasts_alert_signed_and_numbered_on_a_new_connection() {
    let app = TestApp::spawn().await;
    let fresh = reqwest::Client::new();
    hears_oblast_alert(&app, &fresh, "connection", "close").await;
}

#[tokio::test]
async fn the_same_on_a_kept_alive_connection() {
    let app = TestApp::spawn().await;
    let warmed = reqwest::Client::new();
    warmed.get(format!("{}/healthz", app.base)).send().await.unwrap().text().await.unwrap();
    hears_oblast_alert(&app, &warmed, "connection", "close").await;
}

#[tokio::test]
async fn after_a_refused_write_with_a_body_the_kept_alive_stream_is_direct_too() {
    let app = TestApp::spawn().await;
    let warmed = reqwest::Client::new();
    let refused = warmed
        .post(format!("{}/api/v1/alerts", app.base))
        .bearer_auth(ADMIN)
        .json(&json!({ "region_id": 14, "kind": "no-such-kind", "message": { "en": "GET /api/v1/stream " } }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    refused.text().await.unwrap();
    hears_oblast_alert(&app, &warmed, "connection", "close").await;
}

#[tokio::test]
async fn a_pipelined_stream_request_is_served_through_hyper_the_same() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let mut socket = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let both = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/stream?regions=711 HTTP/1.1\r\nHost: x\r\n\r\n";
    socket.write_all(both.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut read_until = async |socket: &mut tokio::net::TcpStream, marker: &str| {
        let mut buffer = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains(marker) {
            let n = tokio::time::timeout(WAIT, socket.read(&mut buffer)).await.expect(marker).unwrap();
            assert!(n > 0, "closed before {marker}: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buffer[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    };
    let text = read_until(&mut socket, "event: snapshot").await;
    let stream_head = &text[text.rfind("HTTP/1.1 200").unwrap()..];
    assert!(stream_head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{text}");
    let declared = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let text = read_until(&mut socket, "event: declared").await;
    assert!(text.contains(&format!("\"id\":{}", declared.body["id"])), "{text}");
}

async fn hears_oblast_alert(app: &TestApp, client: &reqwest::Client, header: &str, value: &str) {
    let mut stream = SseStream::open(client, &app.base, "/api/v1/stream?regions=711", None).await;
    assert_eq!(stream.header(header), Some(value), "which path served the stream");
    let snapshot = stream.next(WAIT).await.unwrap();
    assert_eq!((snapshot.event.as_str(), snapshot.seq()), ("snapshot", 0));
    assert_eq!(snapshot.json()["regions"], json!([{ "id": 711, "state": "clear" }]));

    let declared = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let frame = stream.next(WAIT).await.expect("the oblast's alert reaches the hromada");
    assert_eq!((frame.event.as_str(), frame.seq()), ("declared", 1));
    let event = frame.json();
    assert_eq!(event["type"], "declared");
    assert_eq!(event["alert"]["id"], declared.body["id"]);
    let public = app.get(&format!("/api/v1/alerts/{}", declared.body["id"])).await.body;
    assert_eq!(event["alert"], public, "the data is the REST API's public alert");
    assert_eq!(event["alert"]["declared_by"], json!({ "token_id": null, "name": "tryvoha" }), "the authority");

    let keys = keys(app).await;
    assert_eq!(verify_signed_json(&snapshot.data, &keys), Ok(()));
    assert_eq!(verify_signed_json(&frame.data, &keys), Ok(()));
    let tampered = frame.data.replace("\"air_raid\"", "\"chemical\"");
    assert!(verify_signed_json(&tampered, &keys).is_err(), "a tampered event does not verify");
}

#[tokio::test]
async fn resuming_replays_the_missed_matching_events_in_order_then_continues_live() {
    let app = TestApp::spawn().await;
    let mut first = SseStream::open(&app.client, &app.base, "/api/v1/stream?regions=73", None).await;
    first.next(WAIT).await.unwrap(); // snapshot
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let seen = first.next(WAIT).await.unwrap().seq();
    drop(first);

    for kind in ["artillery_shelling", "urban_fights"] {
        app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 73, "kind": kind })).await;
    }
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await; // elsewhere
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 711, "kind": "chemical" })).await; // below

    for path in ["/api/v1/stream?regions=73".to_owned(), format!("/api/v1/stream?regions=73&after={seen}")] {
        let last_event_id = path.contains("after=").then_some(()).map_or(Some(seen), |_| None);
        let mut resumed = SseStream::open(&app.client, &app.base, &path, last_event_id).await;
        let frames = resumed.until(WAIT, |f| f.seq() == 5).await;
        assert_eq!(
            frames.iter().map(SseFrame::seq).collect::<Vec<_>>(),
            [2, 3, 5],
            "{path}: no gap, no duplicate, not Kyiv city"
        );
        app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 73, "kind": "nuclear" })).await;
        let live = resumed.next(WAIT).await.unwrap();
        assert_eq!(live.event, "declared");
        assert!(live.seq() > 5);
        // Cancel it again so the second pass declares a new event.
        let id = live.json()["alert"]["id"].clone();
        app.post(&format!("/api/v1/alerts/{id}/cancel"), ADMIN, json!({})).await;
    }
}

#[tokio::test]
async fn a_resume_point_beyond_the_log_gets_an_explicit_reset() {
    let app = TestApp::spawn().await;
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let mut stream = SseStream::open(&app.client, &app.base, "/api/v1/stream?regions=14", Some(999)).await;
    let reset = stream.next(WAIT).await.unwrap();
    assert_eq!((reset.event.as_str(), reset.seq()), ("reset", 1));
    let state = reset.json();
    assert_eq!((state["requested_after"].as_u64(), state["regions"][0]["state"].as_str()), (Some(999), Some("alert")));
    assert_eq!(state["alerts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn filters_by_kind_and_status_and_bad_filters_are_refused() {
    let app = TestApp::spawn().await;
    let mut drills =
        SseStream::open(&app.client, &app.base, "/api/v1/stream?kinds=air_raid&status=exercise", None).await;
    drills.next(WAIT).await.unwrap();
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await;
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "chemical", "status": "exercise" })).await;
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid", "status": "exercise" })).await;
    let frame = drills.next(WAIT).await.unwrap();
    assert_eq!((frame.seq(), frame.json()["alert"]["status"].as_str()), (3, Some("exercise")));

    for (query, field) in [
        ("regions=999999", "regions"),
        ("kinds=zombies", "kinds"),
        ("status=maybe", "status"),
        ("after=x", "after"),
        ("_=1700000000&status=maybe", "status"),
    ] {
        let answer = app.get(&format!("/api/v1/stream?{query}")).await;
        assert_eq!((answer.status, answer.body["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{query}");
    }
    // A parameter the stream does not know (a cache-buster) is ignored, not refused.
    let mut busted = SseStream::open(&app.client, &app.base, "/api/v1/stream?_=1700000000&colour=red", None).await;
    assert_eq!(busted.next(WAIT).await.unwrap().event, "snapshot");
}

#[tokio::test]
async fn a_websocket_subscriber_gets_the_snapshot_then_events_and_can_resume() {
    let app = TestApp::spawn().await;
    let url = format!("{}/api/v1/ws?regions=14", app.base.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let next_json = |message: Option<Result<Message, _>>| -> Value {
        match message {
            Some(Ok(Message::Text(text))) => serde_json::from_str(&text).unwrap(),
            other => panic!("expected a text frame, got {other:?}"),
        }
    };
    let snapshot = next_json(tokio::time::timeout(WAIT, socket.next()).await.unwrap());
    assert_eq!(snapshot["type"], "snapshot");
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 711, "kind": "air_raid" })).await;
    let event = next_json(tokio::time::timeout(WAIT, socket.next()).await.unwrap());
    assert_eq!((event["type"].as_str(), event["seq"].as_u64()), (Some("declared"), Some(1)));
    drop(socket);

    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "nuclear" })).await;
    let (mut resumed, _) = tokio_tungstenite::connect_async(format!("{url}&after=1")).await.unwrap();
    let missed = match tokio::time::timeout(WAIT, resumed.next()).await.unwrap() {
        Some(Ok(Message::Text(text))) => text.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(verify_signed_json(&missed, &keys(&app).await), Ok(()));
    let missed: Value = serde_json::from_str(&missed).unwrap();
    assert_eq!((missed["seq"].as_u64(), missed["alert"]["kind"].as_str()), (Some(2), Some("nuclear")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_subscribers_all_receive_an_alert() {
    let app = TestApp::spawn().await;
    let mut streams = Vec::new();
    for _ in 0..1000 {
        let client = reqwest::Client::new(); // one connection each
        let mut stream = SseStream::open(&client, &app.base, "/api/v1/stream?regions=31", None).await;
        stream.next(WAIT).await.expect("snapshot");
        streams.push(stream);
    }
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tryvoha_subscribers{transport=\"sse\"} 1000"), "{metrics}");
    let declared = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await;
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut stream| tokio::spawn(async move { stream.next(Duration::from_secs(20)).await.map(|f| f.json()) }))
        .collect();
    for reader in readers {
        let event = reader.await.unwrap().expect("every subscriber receives the alert");
        assert_eq!(event["alert"]["id"], declared.body["id"]);
    }
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tryvoha_delivery_latency_seconds_count 2000"), "1000 snapshots + 1000 events: {metrics}");
}

/// docs/signatures.md is enough to verify in another language: its recipe, in Python with the
/// `cryptography` package, checks frames captured from the server.
#[tokio::test]
async fn a_third_party_verifies_frames_from_the_documentation_alone() {
    let python_ready = std::process::Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !python_ready {
        return not_checked("python3 with the cryptography package is not available");
    }
    let app = TestApp::spawn().await;
    let body = json!({ "region_id": 14, "kind": "air_raid", "message": { "uk": "Повітряна тривога! Усі в укриття", "en": "Air raid" } });
    app.post("/api/v1/alerts", ADMIN, body).await;
    let mut stream = SseStream::open(&app.client, &app.base, "/api/v1/stream?regions=14", None).await;
    let snapshot = stream.next(WAIT).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("stream.txt");
    let mut resumed = SseStream::open(&app.client, &app.base, "/api/v1/stream?after=0", None).await;
    let event = resumed.next(WAIT).await.unwrap();
    std::fs::write(&capture, format!("data: {}\n\ndata: {}\n\n", snapshot.data, event.data)).unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, app.get("/api/v1/keys").await.body.to_string()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop/verify_signature.py");
    let output = std::process::Command::new("python3").arg(script).arg(&keys).arg(&capture).output().unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed} {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(printed.trim(), "2 frames verified");
}

#[tokio::test]
async fn a_subscriber_that_leaves_is_forgotten() {
    let app = TestApp::spawn().await;
    let subscribers = async || {
        let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        metrics.lines().find_map(|l| l.strip_prefix("tryvoha_subscribers{transport=\"sse\"} ")).unwrap().to_owned()
    };
    let mut stream = SseStream::open(&reqwest::Client::new(), &app.base, "/api/v1/stream", None).await;
    stream.next(WAIT).await.unwrap();
    assert_eq!(subscribers().await, "1");
    drop(stream);
    for _ in 0..100 {
        if subscribers().await == "0" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the closed connection is still counted");
}

/// Over real sockets: a client that stops reading fills the kernel's buffers, then its queue,
/// and is cut off (counted), while a subscriber that reads gets every event.
///
/// The reader shares the test's runtime (and a loaded machine's CPU) with the server, and its
/// queue holds 4 frames: when its connection task is not run for 4 publishes it really is a
/// queue behind, and the hub rightly cuts it off too. That is the contract, not a failure: the
/// cut is counted, the server says where to resume, and the reader resumes by `Last-Event-ID`
/// and still gets every event exactly once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_and_the_others_get_everything() {
    let data = tempfile::tempdir().unwrap();
    let settings = tryvoha::config::FlagSettings { subscriber_queue: Some(4), ..Default::default() };
    let app = TestApp::spawn_with(data, settings).await;
    let stalled = app.silent_client("GET /api/v1/stream HTTP/1.1\r\nHost: test\r\n\r\n").await;

    let mut reader = SseStream::open(&reqwest::Client::new(), &app.base, "/api/v1/stream", None).await;
    reader.next(WAIT).await.unwrap(); // snapshot
    let hromadas: Vec<u64> = app.get("/api/v1/regions?level=hromada").await.body["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    // Big frames (about 7 KB each) so that the socket buffers, some MB, fill within a few hundred.
    let message = json!({ "uk": "Т".repeat(1900), "en": "T".repeat(1900) });
    let declarations = 1200;
    let base = app.base.clone();
    let collector = tokio::spawn(async move {
        let (mut seen, mut resumed) = (0, 0);
        while seen < declarations {
            // A generous guard only: a frame or the end of the stream always comes.
            match reader.next_or_end(Duration::from_secs(30)).await.expect("the reading subscriber keeps receiving") {
                Next::Frame(frame) => {
                    assert_eq!(frame.seq(), seen + 1, "in order, none missing, none twice");
                    seen += 1;
                }
                Next::Ended { tail } => {
                    let note = format!(": cut off as too slow; resume with Last-Event-ID {seen}\n\n");
                    assert!(
                        tail.ends_with(&note),
                        "a stream ends only by a cut-off that names the resume point: {tail:?}"
                    );
                    reader = SseStream::open(&reqwest::Client::new(), &base, "/api/v1/stream", Some(seen)).await;
                    resumed += 1;
                }
            }
        }
        (seen, resumed)
    });
    for (n, region) in hromadas.iter().take(declarations as usize).enumerate() {
        let answer = app
            .post("/api/v1/alerts", ADMIN, json!({ "region_id": region, "kind": "air_raid", "message": message }))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "declaration {n}");
    }
    let (seen, resumed) = collector.await.unwrap();
    assert_eq!(seen, declarations);
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    let counter = |name: &str| -> u64 {
        metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')).unwrap().parse().unwrap()
    };
    assert_eq!(
        counter("tryvoha_slow_subscribers_cut_total"),
        1 + resumed,
        "the stalled subscriber was cut off, and the reader only each time its queue was full"
    );
    assert_eq!(counter("tryvoha_lagged_subscribers_cut_total"), 0, "the hub itself kept up");
    drop(stalled);
}

/// A reconnect storm in small: every subscriber resuming from the same point gets exactly what
/// it missed, and the log is read once for all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_resuming_from_the_same_point_get_what_they_missed_from_one_read_of_the_log() {
    let app = TestApp::spawn().await;
    let first = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await;
    let resume_from = first.body["seq"].as_u64().expect("the declaration's sequence number");
    for kind in ["artillery_shelling", "urban_fights", "chemical", "nuclear"] {
        app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": kind })).await;
    }
    let reads_before = app.metric("tryvoha_catch_up_reads_total").await;
    let resumed: Vec<_> = (0..200)
        .map(|_| {
            let base = app.base.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new(); // one connection each, all at once
                let mut stream = SseStream::open(&client, &base, "/api/v1/stream", Some(resume_from)).await;
                let frames = stream.until(WAIT, |f| f.seq() == resume_from + 4).await;
                frames.iter().map(SseFrame::seq).collect::<Vec<_>>()
            })
        })
        .collect();
    for stream in resumed {
        let seqs = stream.await.unwrap();
        assert_eq!(seqs, (resume_from + 1..=resume_from + 4).collect::<Vec<_>>(), "no gap, no duplicate");
    }
    let reads = app.metric("tryvoha_catch_up_reads_total").await - reads_before;
    assert_eq!(reads, 1, "200 subscribers resuming from one point share one read of the log");
}
