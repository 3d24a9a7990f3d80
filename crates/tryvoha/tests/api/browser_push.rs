//! Web Push and the installable app in headless Chromium (`tests/browser/push.py`): the page
//! registers its service worker, which then controls it; the manifest's icons load; the page's
//! subscription (from web-push-testing, standing in for the browser's push service, which this
//! machine cannot reach) is accepted by the API, renewed with the user's location and removed;
//! the worker shows what the server pushed (an alert, an exercise that says so, the all-clear
//! in its place, a repeat not shown twice), and offline the page is the worker's copy, saying
//! how old it is.

use serde_json::{Value, json};
use tryvoha::config::{FlagSettings, RawPush};

use crate::browser::browser;
use crate::push_service::WebPushTesting;
use crate::support::{ADMIN, TestApp, not_checked};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and TRYVOHA_BROWSER_PYTHON (a Python with playwright); .ci/run sets them up"
)]
async fn the_page_subscribes_and_its_service_worker_notifies_and_works_offline() {
    let Some((python, chromium)) = browser() else {
        return not_checked("TRYVOHA_BROWSER_PYTHON (a Python with playwright) or /usr/bin/chromium is missing");
    };
    let Some(service) = WebPushTesting::start() else { return };
    let flags = FlagSettings {
        push: RawPush { allow_endpoints: Some(vec![format!("{}/", service.base)]), ..RawPush::default() },
        ..FlagSettings::default()
    };
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags).await;
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&shots).expect("screenshots");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/push.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .args([&app.base, ADMIN, &service.base])
        .arg(&shots)
        .arg(chromium)
        .output()
        .await
        .expect("the browser script runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the browser script failed: {}{stdout}", String::from_utf8_lossy(&output.stderr));
    let seen: Value = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .map(|json| serde_json::from_str(json).expect("JSON"))
        .expect("the browser script's result");

    assert_eq!(seen["manifest"], json!({"display": "standalone", "start_url": "/"}), "{seen}");
    let icons: Vec<(String, String)> = seen["icons"]
        .as_array()
        .expect("icons")
        .iter()
        .filter(|i| i[2].as_u64() > Some(0))
        .map(|i| (i[0].as_str().unwrap_or_default().to_owned(), i[1].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert!(icons.contains(&("512x512".into(), "image/png".into())), "the icons load: {seen}");
    assert_eq!(seen["worker"], format!("{}/sw.js", app.base), "{seen}");
    assert_eq!(seen["controlled"], true, "the worker controls the page: {seen}");
    assert_eq!(seen["without_push_service"], "failed", "no push service: said, not broken: {seen}");

    assert_eq!(seen["application_server_key_is_the_servers"], true, "{seen}");
    assert_eq!(seen["subscriptions_after_on"], 1, "the page's subscription was accepted: {seen}");
    assert_eq!(seen["watched"][0], 31, "{seen}");
    assert_ne!(seen["watched"][1], 31, "the location's hromada was added: {seen}");
    assert_eq!(seen["subscriptions_after_location"], 1, "renewed in place: {seen}");

    assert!(seen["pushed"].as_u64() >= Some(1), "web-push-testing received the alert: {seen}");
    let titles = |key: &str| -> Vec<String> {
        seen[key].as_array().map_or_else(Vec::new, |shown| {
            shown.iter().filter_map(|n| n["title"].as_str().map(str::to_owned)).collect()
        })
    };
    assert_eq!(titles("alert_notification"), ["Air-raid alert — Kyiv City"], "{seen}");
    let body = seen["alert_notification"][0]["body"].as_str().unwrap_or_default();
    assert!(body.contains("Level: ") && body.contains("ballistic missiles"), "level and threats: {body}");
    assert_eq!(seen["after_repeat"], seen["alert_notification"], "a repeat is not shown twice");
    let mut exercise = titles("exercise_notification");
    exercise.sort();
    assert_eq!(
        exercise,
        ["Air-raid alert — Kyiv City", "EXERCISE: Chemical threat — Kyiv City"],
        "an exercise says so, and never takes a real alert's place: {seen}"
    );
    let drill = seen["exercise_notification"]
        .as_array()
        .and_then(|all| all.iter().find(|n| n["tag"] == "31-chemical-exercise"));
    assert!(drill.is_some_and(|n| n["body"].as_str().unwrap_or_default().contains("not a real alert")), "{seen}");
    let mut after = titles("all_clear_notification");
    after.sort();
    assert_eq!(
        after,
        ["All clear: Air-raid alert — Kyiv City", "EXERCISE: Chemical threat — Kyiv City"],
        "the all-clear takes its alert's place, and names it: {seen}"
    );
    let status = seen["status_after_quick_changes"].as_str().unwrap_or_default();
    assert!(status.contains("Kyiv City") && !status.contains("Dnipro"), "the last of quick changes holds: {status}");

    let offline = &seen["offline"];
    assert_eq!(offline["title"], "Kyiv City", "the page from the worker's copy: {seen}");
    assert_eq!(offline["saved_copy"], "true", "{seen}");
    let freshness = offline["freshness"].as_str().unwrap_or_default();
    assert!(freshness.starts_with("Saved state as of ") && freshness.ends_with(" ago)"), "its age: {freshness}");
    assert_eq!(seen["subscriptions_after_off"], 0, "turned off: removed at the server: {seen}");
    assert_eq!(seen["errors"], json!([]), "no script error: {seen}");
    app.stop().await;
}
