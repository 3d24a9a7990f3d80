//! The store chosen by URL (`--store`, `TRYVOHA_STORE`): the server and the offline commands
//! open the same one; a database outside the data directory is locked like the directory; a bad
//! or unavailable store is refused at start with a sentence naming the setting.

use std::path::Path;
use std::process::{Command, Output};

use reqwest::StatusCode;

use crate::support::{ADMIN, TestApp};

/// Runs the binary with `args` to its end (each of these commands exits on its own).
fn tryvoha(args: &[&str], store: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tryvoha"));
    command.args(args).env("TRYVOHA_ADMIN_TOKEN", ADMIN).env("TRYVOHA_LOG", "warn").env_remove("TRYVOHA_STORE");
    if let Some(store) = store {
        command.env("TRYVOHA_STORE", store);
    }
    command.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

const HISTORY: &str = "oblast,raion,hromada,level,started_at,finished_at,source\n\
    Kyivska oblast,,,oblast,2023-06-01 10:00:00+00:00,2023-06-01 11:00:00+00:00,official\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outside_the_data_directory_is_shared_by_import_serve_and_reset_admin_and_locked() {
    let (data, elsewhere, other_data) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let store_dir = elsewhere.path().join("db");
    let store = format!("sqlite:{}", path(&store_dir));
    let file = data.path().join("history.csv");
    std::fs::write(&file, HISTORY).unwrap();

    let imported = tryvoha(&["import", "history", path(&file), "--data", path(data.path()), "--store", &store], None);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(store_dir.join("tryvoha.db").exists(), "the import wrote where --store said");

    let app = TestApp::spawn_with(
        tempfile::tempdir().unwrap(),
        tryvoha::config::FlagSettings { store: Some(store.clone()), ..Default::default() },
    )
    .await;
    let stats = app.get("/api/v1/stats/regions/14").await;
    assert_eq!((stats.status, stats.body["alerts"].as_u64()), (StatusCode::OK, Some(1)), "the server reads it");
    assert!(!app.data.path().join("tryvoha.db").exists(), "no second database in the data directory");
    assert!(app.data.path().join("signing-key").exists(), "the signing key stays in the data directory");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let second = tryvoha(&["serve", "--listen", &listen, "--data", path(other_data.path())], Some(&store));
    assert!(!second.status.success(), "a second server on the same store must not start");
    let message = text(&second.stderr);
    assert!(message.contains(&store) && message.contains("in use by another tryvoha"), "{message}");
    let refused = tryvoha(&["token", "reset-admin", "--data", path(other_data.path()), "--store", &store], None);
    assert!(!refused.status.success(), "reset-admin waits for the server to stop");

    app.stop().await;
    let reset = tryvoha(&["token", "reset-admin", "--data", path(other_data.path())], Some(&store));
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    assert!(text(&reset.stdout).contains("tv_"), "the new secret is printed");
}

#[test]
fn unknown_and_unavailable_stores_are_refused_with_the_forms_they_take() {
    let data = tempfile::tempdir().unwrap();
    let new = data.path().join("new");
    let serve = |store: &str| tryvoha(&["serve", "--listen", "127.0.0.1:0", "--data", path(&new)], Some(store));

    let unknown = serve("redis://cache/0");
    assert!(!unknown.status.success());
    let message = text(&unknown.stderr);
    assert!(
        message.contains("\"redis\"") && message.contains("--store") && message.contains("sqlite:DIR"),
        "{message}"
    );
    assert!(!new.exists(), "a setting that does not parse creates nothing");

    // Nothing listens on port 1: the server is unavailable, at once.
    let postgres = serve("postgres://tryvoha:s3cret@127.0.0.1:1/alerts");
    assert!(!postgres.status.success());
    let message = text(&postgres.stderr);
    assert!(message.contains("cannot open the store postgres://tryvoha:***@127.0.0.1:1/alerts"), "{message}");
    assert!(!message.contains("s3cret"), "the password is never printed: {message}");

    let missing = tryvoha(&["token", "reset-admin", "--data", path(data.path())], Some("sqlite:nowhere-here"));
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("holds no tryvoha database"), "{}", text(&missing.stderr));
}
