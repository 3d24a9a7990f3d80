//! SIGKILL the real binary while declarations are in flight; after a restart every declaration
//! it acknowledged (201) is in the log and active, and the log has no gap.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ADMIN, BinaryServer, all_events, get_json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_declaration_survives_sigkill() {
    let data = tempfile::tempdir().unwrap();
    let mut server = BinaryServer::start(data.path(), None).await;
    let client = reqwest::Client::new();
    let regions = get_json(&client, &format!("{}/api/v1/regions?level=hromada", server.base)).await;
    let regions: Arc<Vec<u64>> =
        Arc::new(regions["regions"].as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect());

    // Eight writers declare distinct (region, kind) alerts as fast as the server answers.
    let next = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(std::sync::Mutex::new(BTreeMap::<u64, u64>::new())); // alert id -> seq
    let mut writers = Vec::new();
    for _ in 0..8 {
        let (client, base, regions, next, acknowledged) =
            (client.clone(), server.base.clone(), regions.clone(), next.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let kind =
                    ["air_raid", "artillery_shelling", "urban_fights", "chemical", "nuclear"][n / regions.len() % 5];
                let body = json!({ "region_id": regions[n % regions.len()], "kind": kind });
                let Ok(response) =
                    client.post(format!("{base}/api/v1/alerts")).bearer_auth(ADMIN).json(&body).send().await
                else {
                    return; // the server is gone
                };
                if response.status() != StatusCode::CREATED {
                    return;
                }
                let Ok(alert) = response.json::<Value>().await else {
                    return;
                };
                acknowledged.lock().unwrap().insert(alert["id"].as_u64().unwrap(), alert["seq"].as_u64().unwrap());
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 150 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let restarted = BinaryServer::start(data.path(), None).await;
    let events = all_events(&client, &restarted.base).await;
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "the log has no gap");
    let logged: BTreeMap<u64, u64> =
        events.iter().map(|e| (e["alert"]["id"].as_u64().unwrap(), e["seq"].as_u64().unwrap())).collect();
    for (id, seq) in &acknowledged {
        assert_eq!(logged.get(id), Some(seq), "acknowledged alert {id} (seq {seq}) is in the log");
    }
    let active = get_json(&client, &format!("{}/api/v1/alerts/active", restarted.base)).await;
    let active: Vec<u64> = active["alerts"].as_array().unwrap().iter().map(|a| a["id"].as_u64().unwrap()).collect();
    assert_eq!(active, logged.keys().copied().collect::<Vec<_>>(), "every logged declaration is active again");
    drop(restarted);
}
