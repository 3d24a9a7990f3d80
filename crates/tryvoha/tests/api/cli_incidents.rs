//! A responder on the command line: reports an incident, moves it on, lists it, and says a
//! shelter is full, all through the server's API.

use crate::cli::tryvoha;
use crate::support::{ADMIN, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_reports_updates_and_lists_incidents_and_sets_a_shelters_status() {
    let app = TestApp::spawn().await;
    let responder = app.token("responder", &[31]).await;
    let alert = app.post("/api/v1/alerts", ADMIN, serde_json::json!({ "region_id": 31, "kind": "air_raid" })).await;
    let report = [
        "incident",
        "report",
        "--kind",
        "fire",
        "--lat",
        "50.4501",
        "--lon",
        "30.5234",
        "--public",
        "--severity",
        "severe",
        "--uk",
        "Пожежа на СТО",
        "--people-affected",
        "3",
    ];
    let (ok, out, err) = tryvoha(&app, &responder, &report).await;
    assert!(ok, "{err}");
    let expected =
        format!("reported: #1 fire (severe) active in region 31, alert #{}, public: Пожежа на СТО", alert.body["id"]);
    assert_eq!(out.trim(), expected);
    let private = [
        "incident",
        "report",
        "--kind",
        "evacuation",
        "--lat",
        "50.46",
        "--lon",
        "30.52",
        "--en",
        "Care home",
        "--address",
        "вул. Липова 5",
    ];
    let (ok, out, err) = tryvoha(&app, &responder, &private).await;
    assert!(ok && out.contains("#2 evacuation") && out.contains("private: Care home"), "{out}{err}");
    let (ok, out, _) =
        tryvoha(&app, &responder, &["incident", "update", "1", "--status", "contained", "--people-affected", "7"])
            .await;
    assert!(ok && out.starts_with("updated: #1 fire (severe) contained"), "{out}");
    let (ok, _, err) = tryvoha(&app, &responder, &["incident", "update", "1", "--status", "active"]).await;
    assert!(!ok && err.contains("[status-backwards]") && err.contains("(field status)"), "{err}");
    let (ok, _, err) = tryvoha(
        &app,
        &responder,
        &["incident", "report", "--kind", "fire", "--lat", "49.84", "--lon", "24.03", "--uk", "x"],
    )
    .await;
    assert!(!ok && err.contains("[out-of-scope]"), "{err}");

    let (_, out, _) = tryvoha(&app, &responder, &["incident", "list", "--region-id", "31"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() == 2 && lines[0].starts_with("#2 evacuation") && lines[1].starts_with("#1 fire"), "{out}");
    let (_, out, _) = tryvoha(&app, "", &["incident", "list"]).await;
    assert!(out.lines().count() == 1 && out.starts_with("#1 fire"), "without a token, public ones only: {out}");
    let (_, out, _) = tryvoha(&app, &responder, &["incident", "list", "--status", "closed"]).await;
    assert_eq!(out.trim(), "no incidents");

    let nearest = app.get("/api/v1/shelters/nearest?lat=50.4501&lon=30.5241&limit=1").await;
    let shelter = nearest.body["shelters"][0]["id"].as_u64().unwrap().to_string();
    let (ok, out, err) =
        tryvoha(&app, &responder, &["shelter", "status", &shelter, "--status", "full", "--occupancy", "1200"]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), format!("shelter {shelter} is full, 1200 inside"));
    let (ok, _, err) = tryvoha(&app, &responder, &["shelters", "status", &shelter, "--status", "sunk"]).await;
    assert!(!ok && err.contains("[invalid-field]"), "{err}");
}
