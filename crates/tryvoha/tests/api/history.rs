//! The record: importing history with the CLI, statistics checked against an independent
//! computation on the real dataset, and the history export.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ADMIN, TestApp, not_checked};

/// Runs `tryvoha import history` on `data`; returns (success, stdout, stderr).
fn import(data: &Path, file: &Path, extra: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tryvoha"))
        .args(["import", "history"])
        .arg(file)
        .arg("--data")
        .arg(data)
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The shared datasets (official_data_en.csv …), where CI and developers have them.
fn shared_alerts() -> Option<PathBuf> {
    let dir = std::env::var("TRYVOHA_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")));
    let file = dir.join("alerts/official_data_en.csv");
    file.exists().then_some(file)
}

const SMALL: &str = "oblast,raion,hromada,level,started_at,finished_at,source\n\
    Kyivska oblast,,,oblast,2023-06-01 10:00:00+00:00,2023-06-01 11:00:00+00:00,official\n\
    Kyivska oblast,Bilotserkivskyi raion,,raion,2023-06-01 10:30:00+00:00,2023-06-01 11:30:00+00:00,official\n\
    Lvivska oblast,,,oblast,2023-03-25 22:30:00+00:00,2023-03-25 22:40:00+00:00,official\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_file_gives_statistics_and_exports_and_a_reimport_adds_nothing() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("small.csv");
    std::fs::write(&file, SMALL).unwrap();
    let (ok, out, err) = import(data.path(), &file, &[]);
    assert!(ok && out.contains("imported 3 alerts"), "{out} {err}");
    let (ok, out, _) = import(data.path(), &file, &[]);
    assert!(ok && out.contains("imported 0 alerts (3 already present"), "{out}");

    let app = TestApp::spawn_in(data).await;
    let raion = app.get("/api/v1/stats/regions/73").await;
    assert_eq!(raion.status, StatusCode::OK, "{}", raion.body);
    let stats = &raion.body;
    assert_eq!(
        (stats["alerts"].as_u64(), stats["time_under_alert_s"].as_i64()),
        (Some(2), Some(5400)),
        "its own and its oblast's, merged"
    );
    assert_eq!(stats["by_hour"][13]["alerts"], 2, "10:00 UTC in June is 13:00 in Kyiv");
    let oblast = app.get("/api/v1/stats/regions/UA32000000000030281").await;
    assert_eq!(oblast.body["alerts"], 1, "a raion's alert does not put its oblast under alert");
    let lviv = app.get("/api/v1/stats/regions/27").await;
    assert_eq!(lviv.body["by_hour"][0]["alerts"], 1, "22:30 UTC on 25 March 2023 was 00:30 winter time");

    let summary = app.get("/api/v1/stats/summary").await;
    let ranked = summary.body["regions"].as_array().unwrap();
    assert_eq!(ranked.len(), 27);
    assert_eq!((ranked[0]["region"]["id"].as_u64(), ranked[0]["time_under_alert_s"].as_i64()), (Some(14), Some(3600)));
    assert_eq!(ranked[1]["region"]["id"], 27);

    let csv = app.client.get(format!("{}/api/v1/history.csv?regions=14,73", app.base)).send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), 3, "a header and two rows: {csv}");
    assert!(csv.lines().next().unwrap().starts_with("id,region_id,region_name_uk,region_name_en,kind"));
    let json = app.get("/api/v1/history.json?from=2023-06-01T10:45:00Z&to=2023-06-01T11:15:00Z").await;
    assert_eq!(json.body["alerts"].as_array().unwrap().len(), 2, "both overlap the range");
    assert!(json.body["alerts"].as_array().unwrap().iter().all(|a| a["source"] == "official"));

    for (path, field) in [
        ("/api/v1/stats/regions/14?from=yesterday", "from"),
        ("/api/v1/stats/summary?from=2024-01-02T00:00:00Z&to=2024-01-01T00:00:00Z", "to"),
        ("/api/v1/history.json?regions=14,x", "regions"),
    ] {
        let bad = app.get(path).await;
        assert_eq!((bad.status, bad.body["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{path}");
    }
    assert_eq!(app.get("/api/v1/stats/regions/999999").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn live_alerts_enter_the_history_when_they_end() {
    let app = TestApp::spawn().await;
    let declared = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await;
    let drill =
        app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "chemical", "status": "exercise" })).await;
    for alert in [&declared, &drill] {
        app.post(&format!("/api/v1/alerts/{}/cancel", alert.body["id"]), ADMIN, json!({})).await;
    }
    let history = app.get("/api/v1/history.json?regions=31").await;
    let sources: Vec<(&str, &str)> = history.body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["source"].as_str().unwrap(), a["status"].as_str().unwrap()))
        .collect();
    assert_eq!(sources, [("live", "actual"), ("live", "exercise")]);
    assert_eq!(app.get("/api/v1/stats/regions/31").await.body["alerts"], 1, "drills are not counted");
}

#[tokio::test]
async fn bad_rows_and_bad_files_import_nothing() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("bad.csv");
    std::fs::write(
        &file,
        format!("{SMALL}Atlantis oblast,,,oblast,2023-06-02 10:00:00+00:00,2023-06-02 11:00:00+00:00,official\n"),
    )
    .unwrap();
    let (ok, _, err) = import(data.path(), &file, &[]);
    assert!(
        !ok && err.contains("line 5: no oblast named \"Atlantis oblast\"") && err.contains("nothing was imported"),
        "{err}"
    );
    let header = data.path().join("header.csv");
    std::fs::write(&header, "when,where\n2023,Kyiv\n").unwrap();
    let (ok, _, err) = import(data.path(), &header, &[]);
    assert!(!ok && err.contains("unknown header"), "{err}");
    let app = TestApp::spawn_in(data).await;
    assert!(
        app.get("/api/v1/history.json").await.body["alerts"].as_array().unwrap().is_empty(),
        "nothing half-imported"
    );
    let data = app.stop().await;
    let (ok, out, _) = import(data.path(), &file, &["--skip-invalid"]);
    assert!(ok && out.contains("imported 3 alerts") && out.contains("1 invalid rows skipped"), "{out}");
}

/// The statistics equal an independent computation (Python, zoneinfo) on the real dataset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_match_an_independent_computation_on_the_real_dataset() {
    let Some(dataset) = shared_alerts() else {
        return not_checked("the shared alert history (../shared/data or TRYVOHA_SHARED_DATA) is not here");
    };
    let data = tempfile::tempdir().unwrap();
    // The published file imports as it is: its row with swapped columns is read with a warning.
    let (ok, out, err) = import(data.path(), &dataset, &[]);
    assert!(ok && out.contains("imported 43031 alerts"), "{out} {err}");
    assert!(err.contains("line 18: warning: the oblast and raion columns are swapped"), "{err}");
    let app = TestApp::spawn_in(data).await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let ranges = [("2022-01-01T00:00:00Z", "2024-05-01T00:00:00Z"), ("2023-03-01T00:00:00Z", "2023-11-15T00:00:00Z")];
    // Oblasts, Kyiv city, a raion and a hromada (whose oblast's alerts count for them).
    for region in [14, 31, 27, 9, 73, 711] {
        for (from, to) in ranges {
            let expected: Value = {
                let output = std::process::Command::new("python3")
                    .arg(format!("{root}/tests/interop/history_stats.py"))
                    .arg(&dataset)
                    .args([
                        format!("{root}/data/regions/ukraine-history-names.csv"),
                        format!("{root}/data/regions/ukraine.csv"),
                    ])
                    .args([region.to_string(), from.into(), to.into()])
                    .output()
                    .unwrap();
                assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
                serde_json::from_slice(&output.stdout).unwrap()
            };
            let got = app.get(&format!("/api/v1/stats/regions/{region}?from={from}&to={to}")).await.body;
            for key in ["alerts", "total_duration_s", "longest_duration_s", "time_under_alert_s"] {
                assert_eq!(got[key], expected[key], "region {region} {from}..{to}: {key}");
            }
            assert_eq!(
                got["median_duration_s"].as_f64(),
                expected["median_duration_s"].as_f64(),
                "region {region}: median"
            );
            for hour in 0..24 {
                assert_eq!(
                    got["by_hour"][hour]["alerts"], expected["by_hour"][hour]["alerts"],
                    "region {region} hour {hour}"
                );
                assert_eq!(
                    got["by_hour"][hour]["under_alert_s"], expected["by_hour"][hour]["under"],
                    "region {region} hour {hour}"
                );
            }
            for day in 0..7 {
                assert_eq!(
                    got["by_weekday"][day]["under_alert_s"], expected["by_weekday"][day]["under"],
                    "region {region} day {day}"
                );
            }
        }
    }
}
