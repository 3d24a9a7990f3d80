//! The CLI is a thin client: its commands reach the real server and print what it answered.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::{ADMIN, BinaryServer, TestApp};

/// Runs the binary with the server and token taken from the environment, as a user would.
pub async fn tryvoha(app: &TestApp, token: &str, args: &[&str]) -> (bool, String, String) {
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
async fn an_operator_declares_lists_cancels_and_reinstates_from_the_command_line() {
    let app = TestApp::spawn().await;
    let (ok, created, _) =
        tryvoha(&app, ADMIN, &["token", "create", "--name", "kyiv", "--role", "operator", "--region", "14", "--json"])
            .await;
    assert!(ok);
    let secret = serde_json::from_str::<serde_json::Value>(&created).unwrap()["token"].as_str().unwrap().to_owned();

    let (ok, out, _) = tryvoha(&app, &secret, &["alert", "declare", "--region", "14", "--threat", "drones"]).await;
    assert!(
        ok && out.starts_with("declared: #1 region 14 Київська область (Kyivska oblast): air_raid red actual"),
        "{out}"
    );
    let (_, out, _) = tryvoha(&app, &secret, &["alerts"]).await;
    assert!(out.contains("#1 region 14 Київська область (Kyivska oblast): air_raid"), "{out}");
    let (ok, _, err) = tryvoha(&app, &secret, &["alert", "declare", "--region", "31"]).await;
    assert!(!ok && err.contains("[out-of-scope]"), "the server's error reaches the user: {err}");
    let (ok, out, _) =
        tryvoha(&app, &secret, &["alert", "update", "1", "--level", "yellow", "--message-en", "Drones"]).await;
    assert!(
        ok && out.starts_with(
            "updated: level, message: #1 region 14 Київська область (Kyivska oblast): air_raid yellow actual"
        ),
        "{out}"
    );
    assert_eq!(app.get("/api/v1/alerts/1").await.body["message"]["en"], "Drones");
    let (ok, out, _) = tryvoha(&app, &secret, &["alert", "cancel", "1"]).await;
    assert!(ok && out.starts_with("cancelled: #1"), "{out}");
    let (_, out, _) = tryvoha(&app, &secret, &["alerts"]).await;
    assert_eq!(out.trim(), "no active alerts");
    let (ok, out, _) = tryvoha(&app, &secret, &["alert", "reinstate", "1"]).await;
    assert!(
        ok && out.starts_with("reinstated #1 as #2 region 14 Київська область (Kyivska oblast): air_raid"),
        "{out}"
    );
    let (ok, out, _) = tryvoha(&app, &secret, &["alert", "reinstate", "1"]).await;
    assert!(ok && out.starts_with("already reinstated: #2"), "{out}");
    let (ok, _, err) = tryvoha(&app, &secret, &["alert", "reinstate", "2"]).await;
    assert!(!ok && err.contains("[alert-active]"), "{err}");
    let (_, out, _) = tryvoha(&app, "", &["regions", "--level", "oblast"]).await;
    assert_eq!(out.lines().count(), 27);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_the_stream_and_resumes_after_the_server_restarts() {
    use std::io::{BufRead, BufReader};

    let data = tempfile::tempdir().unwrap();
    let server = BinaryServer::start(data.path(), None).await;
    let (base, port) = (server.base.clone(), server.port);
    let mut watcher = std::process::Command::new(env!("CARGO_BIN_EXE_tryvoha"))
        .args(["watch", "--regions", "14", "--server", &base])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    let (sender, mut printed) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while let Some(Ok(line)) = lines.next() {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    let mut next_line = async || tokio::time::timeout(Duration::from_secs(10), printed.recv()).await.unwrap().unwrap();
    assert!(next_line().await.starts_with("[0] snapshot: 0 active alerts; 14=clear"));

    let client = reqwest::Client::new();
    let declare = |region: u32, status: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let body = json!({ "region_id": region, "kind": "air_raid", "status": status });
            client.post(format!("{base}/api/v1/alerts")).bearer_auth(ADMIN).json(&body).send().await.unwrap();
        }
    };
    declare(711, "actual").await;
    let line = next_line().await;
    assert!(line.starts_with("[1] declared #1 region 711 ") && line.contains("): air_raid red at"), "{line}");

    drop(server); // SIGKILL; the watcher keeps trying
    let server = BinaryServer::start(data.path(), Some(port)).await;
    declare(14, "exercise").await;
    let line = next_line().await;
    assert!(
        line.starts_with("[2] declared #2 region 14 Київська область (Kyivska oblast): air_raid red [EXERCISE]"),
        "resumed after event 1: {line}"
    );
    let _ = watcher.kill();
    let _ = watcher.wait();
    drop(server);
}

#[tokio::test]
async fn verify_accepts_a_saved_stream_and_rejects_a_tampered_one() {
    let app = TestApp::spawn().await;
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await;
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "nuclear" })).await;
    // Resume from the start: the two events, as any client would save them.
    let mut response = app.client.get(format!("{}/api/v1/stream?after=0", app.base)).send().await.unwrap();
    // Bytes, decoded once whole: a chunk may end inside a multi-byte character.
    let mut bytes = Vec::new();
    while String::from_utf8_lossy(&bytes).matches("event: declared").count() < 2 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk()).await.unwrap().unwrap().unwrap();
        bytes.extend_from_slice(&chunk);
    }
    let saved = String::from_utf8(bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stream.txt");
    std::fs::write(&file, &saved).unwrap();
    let file = file.to_str().unwrap();
    let (ok, out, _) = tryvoha(&app, "", &["verify", file]).await;
    assert!(ok && out.contains("2 verified, 0 failed"), "{out}");

    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, app.get("/api/v1/keys").await.body.to_string()).unwrap();
    std::fs::write(dir.path().join("tampered.txt"), saved.replace("\"nuclear\"", "\"chemical\"")).unwrap();
    let tampered = dir.path().join("tampered.txt");
    let (ok, out, _) = tryvoha(
        &app,
        "",
        &["verify", tampered.to_str().unwrap(), "--keys", keys.to_str().unwrap(), "--server", "http://127.0.0.1:9"],
    )
    .await;
    assert!(
        !ok && out.contains("FAIL seq 2") && out.contains("1 verified, 1 failed"),
        "offline, with the saved keys: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shelter_file_is_imported_whole_or_with_skip_invalid_only_its_good_rows() {
    let app = TestApp::spawn().await;
    let count = async || app.get("/api/v1/shelters").await.body["shelters"].as_array().unwrap().len();
    let before = count().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shelters.csv");
    std::fs::write(
        &file,
        "name_uk,lat,lon,kind,capacity\nУкриття 1,50.45,30.52,basement,120\nУкриття 2,north,30.52,basement,\nУкриття 3,50.46,30.53,underground,40\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (ok, _, err) = tryvoha(&app, ADMIN, &["shelters", "import", path]).await;
    assert!(
        !ok && err.contains("row 3: lat: \"north\" is not a number") && err.contains("nothing was imported"),
        "{err}"
    );
    assert_eq!(count().await, before, "nothing half-imported");
    let (ok, out, _) = tryvoha(&app, ADMIN, &["shelters", "import", path, "--skip-invalid"]).await;
    assert!(ok && out.contains("imported 2 shelters (0 already present, skipped 1 invalid rows)"), "{out}");
    assert_eq!(count().await, before + 2);
    let (ok, out, _) = tryvoha(&app, ADMIN, &["shelters", "import", path, "--skip-invalid"]).await;
    assert!(ok && out.contains("imported 0 shelters (2 already present, skipped 1 invalid rows)"), "{out}");
    assert_eq!(count().await, before + 2, "importing the same file again adds nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_are_taken_by_name_or_code_and_printed_with_their_names() {
    let app = TestApp::spawn().await;
    let (ok, created, err) = tryvoha(
        &app,
        ADMIN,
        &[
            "token",
            "create",
            "--name",
            "kyiv",
            "--role",
            "operator",
            "--region",
            "київська область",
            "--region",
            "UA80000000000093317",
        ],
    )
    .await;
    assert!(
        ok && created.contains("regions 14 Київська область (Kyivska oblast), 31 м. Київ (Kyiv City)"),
        "{created}{err}"
    );
    let (_, listed, _) = tryvoha(&app, ADMIN, &["token", "list"]).await;
    assert!(listed.contains("regions 14 Київська область (Kyivska oblast), 31 м. Київ (Kyiv City)"), "{listed}");

    let (ok, out, err) = tryvoha(&app, ADMIN, &["alert", "declare", "--region", "Kyiv City"]).await;
    assert!(ok && out.starts_with("declared: #1 region 31 м. Київ (Kyiv City): air_raid"), "{out}{err}");
    let (ok, out, err) =
        tryvoha(&app, ADMIN, &["alert", "declare", "--region", "Kyiv City,14", "--kind", "chemical"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(ok && lines.len() == 2, "one line per region: {out}{err}");
    assert!(lines[0].starts_with("declared: #2 region 31 м. Київ (Kyiv City): chemical"), "{out}");
    assert!(lines[1].starts_with("declared: #3 region 14 Київська область (Kyivska oblast): chemical"), "{out}");
    let (ok, out, _) = tryvoha(&app, ADMIN, &["alert", "declare", "--region", "31", "--region", "14"]).await;
    assert!(ok && out.lines().count() == 2 && out.starts_with("already active"), "repeated --region: {out}");
    let (ok, _, err) = tryvoha(&app, ADMIN, &["alert", "declare", "--region", "Kyivska oblsat"]).await;
    assert!(!ok && err.contains("did you mean:") && err.contains("14 Київська область (Kyivska oblast)"), "{err}");
    assert_eq!(app.last_seq().await, 4, "a typo declares nothing");

    let (ok, out, _) = tryvoha(&app, "", &["regions", "Kyivska oblast", "--level", "raion"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(ok && lines[0].contains("Київська область / Kyivska oblast"), "{out}");
    assert!(lines.len() > 2 && lines[1..].iter().all(|line| line.contains(" raion ")), "its raions follow: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mistakes_on_the_command_line_get_sentences() {
    let app = TestApp::spawn().await;
    let without_scheme = app.base.trim_start_matches("http://").to_owned();
    let (ok, out, err) = tryvoha(&app, "", &["alerts", "--server", &without_scheme]).await;
    assert!(ok && out.trim() == "no active alerts", "host:port means http://host:port: {out}{err}");
    let (ok, _, err) = tryvoha(&app, "", &["alerts", "--server", "ftp://example.org"]).await;
    assert!(!ok && err.contains("--server \"ftp://example.org\": the scheme \"ftp\" is not http or https"), "{err}");
    let (ok, _, err) =
        tryvoha(&app, ADMIN, &["alert", "declare", "--region", "14", "--expires-at", "tomorrow 18:00"]).await;
    assert!(!ok && err.contains("--expires-at \"tomorrow 18:00\" is not a time with a zone"), "{err}");
    let (ok, out, err) = tryvoha(&app, ADMIN, &["alert", "declare", "--region", "14", "--message-en", "Drones"]).await;
    assert!(ok && out.starts_with("declared: #1"), "a text in one language only is fine: {out}{err}");
    assert_eq!(app.get("/api/v1/alerts/1").await.body["message"], json!({ "en": "Drones" }));
    let (ok, _, err) = tryvoha(&app, ADMIN, &["alert", "declare", "--region", "14", "--level", "orange"]).await;
    assert!(!ok && !err.contains("line 1 column"), "no parser positions: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_goes_away_ends_the_listing_quietly() {
    use std::io::Read;
    use std::process::Stdio;

    let app = TestApp::spawn().await;
    let base = app.base.clone();
    let (status, stderr) = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tryvoha"))
            .args(["regions", "--server", &base])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line, as `head -1` would, then close the pipe while 1,600 lines are to come.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        (child.wait().unwrap(), stderr)
    })
    .await
    .unwrap();
    assert!(status.success() && stderr.is_empty(), "{status}: {stderr}");
}
