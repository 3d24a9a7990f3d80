//! Reading the record at scale: the history export in pages, slow readers that stop reading,
//! and compressed answers.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{ADMIN, TestApp};

/// Imports `rows` hourly oblast alerts on Kyiv oblast (region 14) into `data`.
fn import_hourly(data: &Path, rows: usize) {
    let mut file = String::from("oblast,raion,hromada,level,started_at,finished_at,source\n");
    let start = time::macros::datetime!(2023-01-01 00:00 UTC);
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]+00:00");
    for n in 0..rows {
        let at = start + time::Duration::hours(n as i64);
        let end = at + time::Duration::minutes(30);
        file += &format!(
            "Kyivska oblast,,,oblast,{},{},official\n",
            at.format(format).unwrap(),
            end.format(format).unwrap()
        );
    }
    let path = data.join("hourly.csv");
    std::fs::write(&path, file).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tryvoha"))
        .args(["import", "history"])
        .arg(&path)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_comes_in_pages_that_follow_their_cursor_to_the_end() {
    let data = tempfile::tempdir().unwrap();
    import_hourly(data.path(), 5);
    let app = TestApp::spawn_in(data).await;

    let mut ids = Vec::new();
    let mut path = "/api/v1/history.json?limit=2&source=official".to_owned();
    let mut pages = 0;
    loop {
        let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let link = response.headers().get("link").map(|v| v.to_str().unwrap().to_owned());
        let header_cursor = response.headers().get("next-cursor").map(|v| v.to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap();
        pages += 1;
        let alerts = body["alerts"].as_array().unwrap();
        assert!(alerts.len() <= 2, "a page holds at most `limit`");
        ids.extend(alerts.iter().map(|a| a["id"].as_u64().unwrap()));
        match body["next"].as_str() {
            Some(next) => {
                assert_eq!(header_cursor.as_deref(), Some(next), "the header names the same cursor");
                let link = link.expect("a Link to the next page");
                assert!(
                    link.ends_with("rel=\"next\"") && link.contains(next) && link.contains("source=official"),
                    "{link}"
                );
                path = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
            }
            None => {
                assert!(link.is_none() && header_cursor.is_none(), "the last page names no next one");
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    let all = app.get("/api/v1/history.json").await.body;
    let every: Vec<u64> = all["alerts"].as_array().unwrap().iter().map(|a| a["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, every, "the pages together are the whole export, once each, oldest first");
    assert_eq!(every.len(), 5);
    assert_eq!(all["next"], Value::Null);

    let csv = app.client.get(format!("{}/api/v1/history.csv?limit=4", app.base)).send().await.unwrap();
    let next = csv.headers().get("next-cursor").unwrap().to_str().unwrap().to_owned();
    assert_eq!(csv.text().await.unwrap().lines().count(), 1 + 4, "the header and one page");
    let rest = app.client.get(format!("{}/api/v1/history.csv?limit=4&cursor={next}", app.base)).send().await.unwrap();
    assert!(rest.headers().get("next-cursor").is_none());
    assert_eq!(rest.text().await.unwrap().lines().count(), 1 + 1);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("cursor=yesterday", "cursor"),
        ("source=rumours", "source"),
        ("source=official,rumours", "source"),
    ] {
        for path in ["/api/v1/history.json", "/api/v1/history.csv"] {
            let answer = app.get(&format!("{path}?{query}")).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}?{query}");
            assert_eq!(
                (answer.body["code"].as_str(), answer.body["field"].as_str()),
                (Some("invalid-query"), Some(field))
            );
        }
    }
    for path in ["/api/v1/stats/summary?source=rumours", "/api/v1/stats/regions/14?source=rumours"] {
        let answer = app.get(path).await;
        assert_eq!((answer.status, answer.body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("source")), "{path}");
    }
}

#[tokio::test]
async fn an_empty_csv_export_still_has_its_header_row() {
    let app = TestApp::spawn().await;
    let csv = app.client.get(format!("{}/api/v1/history.csv", app.base)).send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(
        csv.text().await.unwrap(),
        "id,region_id,region_name_uk,region_name_en,kind,level,status,started_at,finished_at,duration_s,source\n"
    );
    let json = app.get("/api/v1/history.json").await.body;
    assert_eq!(json, json!({ "alerts": [], "next": null }));
}

/// Opens a connection that asks for `path` and then stops reading after the first bytes.
async fn stalled_reader(base: &str, path: &str) -> tokio::net::TcpStream {
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut first = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut first)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first[..read]).starts_with("HTTP/1.1 200"), "the export started");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_that_stop_reading_the_export_leave_declarations_and_token_checks_answering() {
    let data = tempfile::tempdir().unwrap();
    import_hourly(data.path(), 12_000);
    let app = TestApp::spawn_in(data).await;
    let operator = app.operator(&[31]).await;
    // Slow readers of the largest page, each stopped after its first kilobyte: every one of
    // them has a body in flight that the server cannot finish writing.
    let mut readers = Vec::new();
    for _ in 0..6 {
        readers.push(stalled_reader(&app.base, "/api/v1/history.json?limit=10000").await);
        readers.push(stalled_reader(&app.base, "/api/v1/history.csv?limit=10000").await);
    }
    let timely = |what: &'static str| move |_| panic!("{what} waited behind the stalled readers");
    let declared = tokio::time::timeout(
        Duration::from_secs(20),
        app.post("/api/v1/alerts", &operator, json!({ "region_id": 31, "kind": "air_raid" })),
    )
    .await
    .unwrap_or_else(timely("a declaration"));
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
    let tokens = tokio::time::timeout(
        Duration::from_secs(20),
        app.call(reqwest::Method::GET, "/api/v1/tokens", Some(ADMIN), None),
    )
    .await
    .unwrap_or_else(timely("a token check"));
    assert_eq!(tokens.status, StatusCode::OK);
    let health =
        tokio::time::timeout(Duration::from_secs(20), app.get("/healthz")).await.unwrap_or_else(timely("/healthz"));
    assert_eq!(health.status, StatusCode::OK);
    let history = tokio::time::timeout(Duration::from_secs(20), app.get("/api/v1/history.json?limit=3"))
        .await
        .unwrap_or_else(timely("another history reader"));
    assert_eq!(history.body["alerts"].as_array().unwrap().len(), 3);
    drop(readers);
}

#[tokio::test]
async fn json_geojson_and_csv_come_compressed_when_asked_and_streams_never() {
    let app = TestApp::spawn().await;
    let fetch = |path: &'static str, encoding: &'static str| {
        let request = app.client.get(format!("{}{path}", app.base)).header("accept-encoding", encoding);
        async move {
            let response = request.send().await.unwrap();
            let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
            (encoding, response.bytes().await.unwrap().to_vec())
        }
    };
    for path in ["/api/v1/regions.geojson?level=hromada", "/api/v1/regions", "/api/v1/history.csv"] {
        let (none, plain) = fetch(path, "identity").await;
        assert_eq!(none, None, "{path}: not compressed unless asked");
        let (br, packed) = fetch(path, "br").await;
        assert_eq!(br.as_deref(), Some("br"), "{path}");
        let mut unpacked = Vec::new();
        brotli_decompressor::Decompressor::new(packed.as_slice(), 4096).read_to_end(&mut unpacked).unwrap();
        assert_eq!(unpacked, plain, "{path}: brotli decodes to the same body");
        let (gzip, packed) = fetch(path, "gzip").await;
        assert_eq!(gzip.as_deref(), Some("gzip"), "{path}");
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(packed.as_slice()).read_to_end(&mut unpacked).unwrap();
        assert_eq!(unpacked, plain, "{path}: gzip decodes to the same body");
        if path.contains("hromada") {
            assert!(packed.len() * 4 < plain.len(), "the hromada layer shrinks: {} of {}", packed.len(), plain.len());
        }
    }
    let stream = app
        .client
        .get(format!("{}/api/v1/stream", app.base))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers().get("content-type").unwrap(), "text/event-stream");
    assert!(stream.headers().get("content-encoding").is_none(), "an event stream is never compressed");
}
