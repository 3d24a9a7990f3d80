//! Two nodes competing for one lease on one store (two SQLite stores on one database file, as
//! two nodes share PostgreSQL): the work runs on one at a time, moves at once when its holder
//! stops, and within the lease's life when its holder dies without a word.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::until;
use tokio_util::sync::CancellationToken;
use tryvoha_cluster::{LeaseStatus, Singleton};
use tryvoha_sqlite::SqliteStore;
use tryvoha_store::LeaseStore;

const TTL: Duration = Duration::from_millis(1200);

struct Node {
    status: Arc<LeaseStatus>,
    running: Arc<AtomicUsize>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

fn node(path: &std::path::Path, name: &str, overlap: Arc<AtomicUsize>) -> Node {
    let store: Arc<dyn LeaseStore> = Arc::new(SqliteStore::open(path).unwrap());
    let status = Arc::new(LeaseStatus::default());
    let running = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let singleton = Singleton { store, name: "mqtt", holder: name.to_owned(), ttl: TTL, status: status.clone() };
    let here = running.clone();
    let work = move |stopped: CancellationToken| {
        let (here, overlap) = (here.clone(), overlap.clone());
        async move {
            here.fetch_add(1, Ordering::SeqCst);
            // Two holders at once would make this 2.
            let others = overlap.fetch_add(1, Ordering::SeqCst);
            assert_eq!(others, 0, "the work runs on one node at a time");
            stopped.cancelled().await;
            overlap.fetch_sub(1, Ordering::SeqCst);
        }
    };
    let task = tokio::spawn(singleton.run(work, stop.clone()));
    Node { status, running, stop, task }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_work_runs_on_one_node_and_moves_when_it_stops_or_dies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let overlap = Arc::new(AtomicUsize::new(0));
    let east = node(&path, "east", overlap.clone());
    until("one node takes the lease", || east.status.held()).await;
    let west = node(&path, "west", overlap.clone());
    tokio::time::sleep(TTL * 2).await;
    assert!(east.status.held() && !west.status.held(), "the holder keeps renewing its lease");
    assert_eq!(west.running.load(Ordering::SeqCst), 0, "the other node never started the work");

    // A clean stop releases the lease: the other node takes over at its next try.
    east.stop.cancel();
    east.task.await.unwrap();
    until("the other node takes over after a stop", || west.status.held()).await;

    // A holder that dies (its task gone, nothing released) loses the lease when it runs out.
    let east = node(&path, "east-again", overlap.clone());
    west.task.abort();
    let _ = west.task.await;
    // The work was aborted with its keeper, mid-wait: it never counted itself out.
    overlap.store(0, Ordering::SeqCst);
    until("a node takes over after its holder died", || east.status.held()).await;
    assert_eq!(east.running.load(Ordering::SeqCst), 1);
    assert_eq!(east.status.times_acquired(), 1);
    east.stop.cancel();
    east.task.await.unwrap();
    west.stop.cancel();
}
