//! One server per data directory: a second `serve` on it fails at once, naming the directory
//! and the holder, and the first goes on. `token reset-admin` works only while no server runs.
//! The signing key may live in a file of its own, shared by the nodes of a cluster.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ADMIN, BinaryServer};

/// Runs the binary to its end, failing the test if it runs on past `limit`.
fn run_to_end(mut command: Command, limit: Duration) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the binary did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn tryvoha(args: &[&str], data: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tryvoha"));
    command.args(args).arg("--data").arg(data).env("TRYVOHA_ADMIN_TOKEN", ADMIN).env("TRYVOHA_LOG", "warn");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_data_directory_fails_at_once_naming_the_holder() {
    let data = tempfile::tempdir().unwrap();
    let first = BinaryServer::start(data.path(), None).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let second =
        run_to_end(tryvoha(&["serve", "--listen", &format!("127.0.0.1:{port}")], data.path()), Duration::from_secs(60));
    assert!(!second.status.success());
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(message.contains(&data.path().display().to_string()), "{message}");
    assert!(message.contains(&format!("pid {}", first.child.id())), "{message}");

    let client = reqwest::Client::new();
    let declared = client
        .post(format!("{}/api/v1/alerts", first.base))
        .bearer_auth(ADMIN)
        .json(&json!({ "region_id": 31, "kind": "air_raid" }))
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), StatusCode::CREATED, "the first server goes on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_admin_refuses_while_a_server_runs_and_makes_a_working_admin_token_when_stopped() {
    let data = tempfile::tempdir().unwrap();
    let mut server = BinaryServer::start(data.path(), None).await;
    let refused = run_to_end(tryvoha(&["token", "reset-admin"], data.path()), Duration::from_secs(60));
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains(&format!("pid {}", server.child.id())), "{message}");
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let reset = run_to_end(tryvoha(&["token", "reset-admin"], data.path()), Duration::from_secs(60));
    assert!(reset.status.success(), "{}", String::from_utf8_lossy(&reset.stderr));
    let printed = String::from_utf8_lossy(&reset.stdout);
    let secret = printed.split_whitespace().find(|word| word.starts_with("tv_")).expect("the secret is printed");

    let restarted = BinaryServer::start(data.path(), None).await;
    let tokens = reqwest::Client::new()
        .get(format!("{}/api/v1/tokens", restarted.base))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(tokens.status(), StatusCode::OK, "the new token is an admin token");
}

/// Two servers given one key file (as the nodes of a cluster are) sign alike, each from its
/// own data directory; without it each makes its own key there.
#[tokio::test]
async fn servers_given_one_key_file_publish_one_key() {
    let shared = tempfile::tempdir().expect("temp dir");
    let key_file = shared.path().join("cluster-key");
    let with_key = || tryvoha::config::FlagSettings {
        signing_key_file: Some(key_file.clone()),
        ..tryvoha::config::FlagSettings::default()
    };
    let east = crate::support::TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), with_key()).await;
    let west = crate::support::TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), with_key()).await;
    let own = crate::support::TestApp::spawn().await;
    let keys = |app: &crate::support::TestApp| {
        let url = format!("{}/api/v1/keys", app.base);
        let client = app.client.clone();
        async move { client.get(url).send().await.expect("answered").text().await.expect("text") }
    };
    let (east_keys, west_keys, own_keys) = (keys(&east).await, keys(&west).await, keys(&own).await);
    assert!(east_keys.contains("Ed25519"), "{east_keys}");
    assert_eq!(east_keys, west_keys, "one key file, one published key");
    assert_ne!(east_keys, own_keys, "a server without it has a key of its own");
    assert!(key_file.exists(), "made at the first start");
    for app in [east, west, own] {
        app.stop().await;
    }
}
