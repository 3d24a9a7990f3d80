//! The CLI is a thin client: its commands reach the real server and print what it answered.

use std::process::Command;

use crate::support::{ADMIN, TestApp};

/// Runs the binary with the server and token taken from the environment, as a user would.
async fn tryvoha(app: &TestApp, token: &str, args: &[&str]) -> (bool, String, String) {
    let (base, token) = (app.base.clone(), token.to_owned());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_tryvoha"))
            .args(&args)
            .env("TRYVOHA_SERVER", base)
            .env("TRYVOHA_TOKEN", token)
            .output()
            .expect("the binary runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_declares_lists_and_cancels_from_the_command_line() {
    let app = TestApp::spawn().await;
    let (ok, created, _) =
        tryvoha(&app, ADMIN, &["token", "create", "--name", "kyiv", "--role", "operator", "--region", "14", "--json"])
            .await;
    assert!(ok);
    let secret = serde_json::from_str::<serde_json::Value>(&created).unwrap()["token"].as_str().unwrap().to_owned();

    let (ok, out, _) = tryvoha(&app, &secret, &["alert", "declare", "--region", "14", "--threat", "drones"]).await;
    assert!(ok && out.starts_with("declared: #1 region 14 air_raid red actual"), "{out}");
    let (_, out, _) = tryvoha(&app, &secret, &["alerts"]).await;
    assert!(out.contains("#1 region 14 air_raid"), "{out}");
    let (ok, _, err) = tryvoha(&app, &secret, &["alert", "declare", "--region", "31"]).await;
    assert!(!ok && err.contains("[out-of-scope]"), "the server's error reaches the user: {err}");
    let (ok, out, _) = tryvoha(&app, &secret, &["alert", "cancel", "1"]).await;
    assert!(ok && out.starts_with("cancelled: #1"), "{out}");
    let (_, out, _) = tryvoha(&app, &secret, &["alerts"]).await;
    assert_eq!(out.trim(), "no active alerts");
    let (_, out, _) = tryvoha(&app, "", &["regions", "--level", "oblast"]).await;
    assert_eq!(out.lines().count(), 27);
}
