//! Three nodes of one cluster, as processes, on the real PostgreSQL (a schema of this run's own)
//! and a NATS JetStream server of the test's own; the third node is cut off from NATS for its
//! whole life (its bus address answers nothing) and follows the log through PostgreSQL. With
//! subscribers on every node and writers on every node, one node is SIGKILLed and restarted
//! with an empty data directory, another SIGSTOPped for 10 s, and NATS killed and started
//! again. At the end every subscriber has every event exactly once and in order, every node
//! reads the same gap-free log and holds the same active alerts, and every acknowledged
//! declaration is in the log.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ADMIN, BinaryServer, PostgresSchema, all_events, get_json, not_checked};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Nats(Child);

impl Nats {
    fn start(port: u16, store: &std::path::Path) -> Nats {
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        Nats(child)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one subscriber saw: the ids of event frames, in order, and any reset.
#[derive(Default)]
struct Seen {
    ids: Vec<u64>,
    resets: usize,
}

/// Follows `/api/v1/stream` on `base`, resuming by `Last-Event-ID` whenever the stream breaks
/// (its node killed and restarted), until `stop`.
async fn subscribe(base: String, seen: Arc<Mutex<Seen>>, stop: tokio_util::sync::CancellationToken) {
    let client = reqwest::Client::new();
    let mut last: Option<u64> = None;
    while !stop.is_cancelled() {
        let mut request = client.get(format!("{base}/api/v1/stream")).header("accept", "text/event-stream");
        if let Some(id) = last {
            request = request.header("last-event-id", id.to_string());
        }
        let Ok(mut response) = request.send().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut buffer = String::new();
        loop {
            let chunk = tokio::select! {
                () = stop.cancelled() => return,
                chunk = response.chunk() => chunk,
            };
            let Ok(Some(chunk)) = chunk else { break };
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    frame.lines().find_map(|line| line.strip_prefix(name).map(|value| value.trim().to_owned()))
                };
                let (Some(id), Some(event)) = (field("id:"), field("event:")) else { continue };
                let id: u64 = id.parse().unwrap();
                let mut seen = seen.lock().unwrap();
                match event.as_str() {
                    "snapshot" => {}
                    "reset" => seen.resets += 1,
                    _ => seen.ids.push(id),
                }
                last = Some(id);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_lose_nothing_through_a_kill_a_stall_and_nats_restarting() {
    let Ok(postgres) = std::env::var("TRYVOHA_TEST_POSTGRES_URL") else {
        return not_checked("TRYVOHA_TEST_POSTGRES_URL is not set: the cluster test needs PostgreSQL");
    };
    if Command::new("nats-server").arg("--version").output().is_err() {
        return not_checked("nats-server is missing: the cluster test needs NATS JetStream");
    }
    let schema = PostgresSchema::new(&postgres, "cluster_test");
    let nats_store = tempfile::tempdir().unwrap();
    let nats_port = free_port();
    let mut nats = Some(Nats::start(nats_port, nats_store.path()));
    let args = |bus_port: u16| {
        ["--store", &postgres, "--bus", &format!("nats://127.0.0.1:{bus_port}"), "--cluster-name", &schema.name]
            .map(str::to_owned)
            .to_vec()
    };
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    // The third node's bus answers nothing: it is cut off from NATS throughout.
    let bus_ports = [nats_port, nats_port, free_port()];
    let mut nodes = Vec::new();
    for (dir, bus) in dirs.iter().zip(bus_ports) {
        nodes.push(BinaryServer::start_with(dir.path(), None, &args(bus)).await);
    }
    let bases: Vec<String> = nodes.iter().map(|node| node.base.clone()).collect();

    let stop = tokio_util::sync::CancellationToken::new();
    let seen: Vec<Arc<Mutex<Seen>>> = (0..3).map(|_| Arc::default()).collect();
    let subscribers: Vec<_> = bases
        .iter()
        .zip(&seen)
        .map(|(base, seen)| tokio::spawn(subscribe(base.clone(), seen.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A writer per node: declarations on regions of its own, one after another.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let oblasts = get_json(&client, &format!("{}/api/v1/regions?level=oblast", bases[0])).await;
    let oblasts: Arc<Vec<u64>> =
        Arc::new(oblasts["regions"].as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect());
    let acknowledged = Arc::new(Mutex::new(BTreeMap::<u64, u64>::new())); // alert id -> seq
    let writers: Vec<_> = bases
        .iter()
        .enumerate()
        .map(|(node, base)| {
            let (client, base, acknowledged, oblasts) =
                (client.clone(), base.clone(), acknowledged.clone(), oblasts.clone());
            tokio::spawn(async move {
                for n in 0..40usize {
                    let kinds = ["air_raid", "artillery_shelling", "urban_fights", "chemical", "nuclear"];
                    let body = json!({ "region_id": oblasts[node * 5 + n % 5], "kind": kinds[n / 5 % 5] });
                    let Ok(response) =
                        client.post(format!("{base}/api/v1/alerts")).bearer_auth(ADMIN).json(&body).send().await
                    else {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    };
                    if response.status() == StatusCode::CREATED || response.status() == StatusCode::OK {
                        let alert: Value = response.json().await.unwrap();
                        acknowledged
                            .lock()
                            .unwrap()
                            .insert(alert["id"].as_u64().unwrap(), alert["seq"].as_u64().unwrap());
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();

    let acknowledged_count = || acknowledged.lock().unwrap().len();
    while acknowledged_count() < 15 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SIGKILL the first node mid-stream; it comes back on its port with an empty data directory.
    nodes[0].child.kill().unwrap();
    nodes[0].child.wait().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let port = nodes[0].port;
    nodes[0] = BinaryServer::start_with(empty.path(), Some(port), &args(nats_port)).await;
    // SIGSTOP the second for 10 s, and meanwhile kill NATS and start it again.
    let stalled = nodes[1].child.id().to_string();
    assert!(Command::new("kill").args(["-STOP", &stalled]).status().unwrap().success());
    drop(nats.take());
    tokio::time::sleep(Duration::from_secs(3)).await;
    nats = Some(Nats::start(nats_port, nats_store.path()));
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert!(Command::new("kill").args(["-CONT", &stalled]).status().unwrap().success());
    for writer in writers {
        writer.await.unwrap();
    }

    // Every node reads the same gap-free log, which holds every acknowledged declaration.
    let log = all_events(&client, &bases[2]).await;
    let head = log.len() as u64;
    let seqs: Vec<u64> = log.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "the log has no gap");
    let logged: BTreeMap<u64, u64> =
        log.iter().map(|e| (e["alert"]["id"].as_u64().unwrap(), e["seq"].as_u64().unwrap())).collect();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 60, "the writers got through: {} acknowledged", acknowledged.len());
    for (id, seq) in &acknowledged {
        assert!(logged.contains_key(id), "acknowledged alert {id} (seq {seq}) is in the log");
    }
    for base in &bases {
        let mut caught_up = false;
        for _ in 0..100 {
            let ready = client.get(format!("{base}/readyz")).send().await.unwrap().json::<Value>().await.unwrap();
            if ready["lag"] == json!(0) && ready["last_seq"] == json!(head) {
                caught_up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(caught_up, "{base} caught up with the log");
        assert_eq!(all_events(&client, base).await, log, "{base} reads the same log");
        let active = get_json(&client, &format!("{base}/api/v1/alerts/active")).await;
        let active: Vec<u64> = active["alerts"].as_array().unwrap().iter().map(|a| a["id"].as_u64().unwrap()).collect();
        assert_eq!(active, logged.keys().copied().collect::<Vec<_>>(), "{base}: the active alerts are the log's");
    }
    let ready = get_json(&client, &format!("{}/readyz", bases[2])).await;
    assert_eq!(ready["links"]["bus"], json!("down"), "the node cut off from NATS says so: {ready}");

    // Every subscriber, whatever its node went through, has every event once, in order.
    for _ in 0..100 {
        if seen.iter().all(|seen| seen.lock().unwrap().ids.last() == Some(&head)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.cancel();
    for subscriber in subscribers {
        subscriber.await.unwrap();
    }
    for (node, seen) in seen.iter().enumerate() {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.resets, 0, "subscriber {node} was never reset");
        assert_eq!(seen.ids, (1..=head).collect::<Vec<_>>(), "subscriber {node} has every event once, in order");
    }
    drop((nodes, nats));
}
