//! The web pages in headless Chromium, driving the real binary: the live map follows the API
//! and resumes after its server was killed and restarted, the first response is the truth with
//! scripts off, operator text stays text, the console declares, gives the all-clear and
//! reinstates with an operator token and is refused outside its scope, exercise mode looks
//! different, the shelter finder uses the browser's location, and a 360 px phone has no
//! horizontal scroll. The browser side is `tests/browser/pages.py` (Playwright); screenshots are
//! kept in `target/tmp/browser/`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{ADMIN, BinaryServer, not_checked};

/// A Python with Playwright (`TRYVOHA_BROWSER_PYTHON`, set up by .ci/run) and Chromium.
pub(crate) fn browser() -> Option<(String, String)> {
    let python = std::env::var("TRYVOHA_BROWSER_PYTHON").ok().filter(|p| std::path::Path::new(p).exists())?;
    let chromium = std::env::var("TRYVOHA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    std::path::Path::new(&chromium).exists().then_some((python, chromium))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "needs Chromium and TRYVOHA_BROWSER_PYTHON (a Python with playwright); .ci/run sets them up"
)]
async fn the_pages_work_in_a_real_browser() {
    // Marked ignored at build time when they are missing (build.rs), except under CI=true.
    let Some((python, chromium)) = browser() else {
        return not_checked("TRYVOHA_BROWSER_PYTHON (a Python with playwright) or /usr/bin/chromium is missing");
    };
    let data = tempfile::tempdir().unwrap();
    let mut server = BinaryServer::start(data.path(), None).await;
    let client = reqwest::Client::new();
    let operator: Value = client
        .post(format!("{}/api/v1/tokens", server.base))
        .bearer_auth(ADMIN)
        .json(&json!({ "name": "kyiv-oblast", "role": "operator", "regions": [14] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&shots).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/pages.py");
    let mut child = Command::new(python)
        .arg(script)
        .args([&server.base, ADMIN, operator["token"].as_str().unwrap()])
        .arg(&shots)
        .arg(chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut result = None;
    while let Some(line) = tokio::task::block_in_place(|| lines.next()) {
        let line = line.unwrap();
        if line == "RESTART" {
            // Killed, not stopped: the page's stream just breaks, as when a server dies. The
            // declaration is made on the same data by a server on another port, which the page
            // cannot reach, so it can learn of it only by resuming from the log by its last id.
            let port = server.port;
            drop(server);
            let elsewhere = BinaryServer::start(data.path(), None).await;
            let declared = client
                .post(format!("{}/api/v1/alerts", elsewhere.base))
                .bearer_auth(ADMIN)
                .json(&json!({ "region_id": 12, "kind": "air_raid" }))
                .send()
                .await
                .unwrap();
            assert_eq!(declared.status(), 201);
            drop(elsewhere);
            server = BinaryServer::start(data.path(), Some(port)).await;
            writeln!(stdin, "declared").unwrap();
        } else if let Some(json) = line.strip_prefix("RESULT ") {
            result = Some(serde_json::from_str::<Value>(json).unwrap());
        }
    }
    assert!(child.wait().unwrap().success(), "the browser script failed (its error is above)");
    let seen = result.expect("the browser script's result");
    let shown = |key: &str| seen[key].clone();
    assert_eq!(shown("shapes"), 27, "every oblast is drawn: {seen}");
    assert_eq!((shown("live_alert"), shown("live_clear")), (json!(true), json!(true)), "{seen}");
    let countdown: Vec<&str> = seen["countdown"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let seconds =
        |text: &str| text.split_once(':').map(|(m, s)| m.parse::<u32>().unwrap() * 60 + s.parse::<u32>().unwrap());
    let (first, later) = (seconds(countdown[0]), seconds(countdown[1]));
    assert!(
        first.is_some_and(|f| (80..=90).contains(&f)) && later.is_some_and(|l| l < first.unwrap()),
        "the countdown starts from 1:30 and ticks (2 s later it is less): {countdown:?}"
    );
    assert_eq!(shown("resumed_alert"), true, "the page resumed after the restart and missed nothing: {seen}");
    assert_eq!(shown("frames_after_restart"), json!(["declared"]), "by its last id, not from a new snapshot: {seen}");
    assert_eq!(shown("live_again"), true, "{seen}");
    let freshness: Vec<&str> = seen["freshness_seen"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(freshness.contains(&"reconnecting"), "the page said it was reconnecting: {freshness:?}");
    assert_eq!(shown("xss"), json!([0, 0]), "operator text never runs");
    assert_eq!(shown("xss_text_shown"), true, "and it is shown as text: {seen}");
    assert_eq!(shown("no_script_state"), "alert", "the first response is the truth without scripts: {seen}");
    assert!(shown("no_script_list").as_u64().unwrap() >= 2, "{seen}");
    let (exercise, live) = (&seen["exercise_look"], &seen["live_look"]);
    assert!(exercise[0].as_str().unwrap().contains("mode-exercise") && live[0].as_str().unwrap().contains("mode-live"));
    assert_ne!(exercise[1], live[1], "exercise and live consoles look different");
    assert!(exercise[2].as_str().unwrap().contains("НАВЧАННЯ"), "{exercise}");
    let confirm = shown("confirm_text");
    assert!(
        confirm.as_str().unwrap().contains("Київська область") && confirm.as_str().unwrap().contains("РЕАЛЬНИЙ"),
        "{confirm}"
    );
    assert_eq!((shown("send_disabled_before_word"), shown("send_disabled_after_word")), (json!(true), json!(false)));
    assert_eq!(shown("declared_live"), json!(["actual"]), "{seen}");
    assert_eq!(shown("cancelled"), true, "{seen}");
    assert_eq!(shown("reinstated"), true, "{seen}");
    assert_eq!(shown("updated"), json!([["yellow", ["drones"]]]), "the console's update: {seen}");
    assert!(shown("out_of_scope_status").as_str().unwrap().contains("Відмовлено"), "{seen}");
    assert_eq!(shown("events_unchanged"), true, "a refused declaration stores nothing");
    assert!(shown("exercise_confirm").as_str().unwrap().starts_with("НАВЧАННЯ"), "{seen}");
    assert_eq!(
        shown("exercise_statuses"),
        json!(["actual", "exercise"]),
        "the exercise mode sends an exercise: {seen}"
    );
    let nearest = shown("nearest");
    assert!(nearest.as_str().unwrap().starts_with("Khreschatyk"), "{nearest}");
    assert_eq!(shown("shelter_warning_shown"), true, "{seen}");
    assert_eq!(shown("watching"), "[9]", "the picked region is remembered: {seen}");
    let notes = seen["notifications"].as_array().unwrap();
    assert!(
        notes.len() == 1 && notes[0].as_str().unwrap().contains("Dnipropetrovska"),
        "one notification naming it: {seen}"
    );
    for (path, width) in seen["phone_widths"].as_object().unwrap() {
        assert!(width.as_u64().unwrap() <= 360, "{path} scrolls sideways on a phone: {width}");
    }
    assert_eq!(shown("page_errors"), json!([]), "no script error: {seen}");
}
