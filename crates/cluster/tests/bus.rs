//! The bus against a NATS JetStream server of the test's own (so that it can be killed and
//! started again): events published by one node reach another in order and once, and the bus
//! comes back by itself after NATS does.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use support::until;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tryvoha_cluster::Bus;
use tryvoha_core::Event;
use tryvoha_store::contract::declared;

struct Nats {
    child: Option<Child>,
    port: u16,
    store: tempfile::TempDir,
}

impl Nats {
    fn start(port: u16, store: tempfile::TempDir) -> Nats {
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Nats { child: Some(child), port, store }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, keeping the store directory for the next start.
    fn kill(mut self) -> (u16, tempfile::TempDir) {
        self.stop();
        (self.port, tempfile::TempDir::new().map(|spare| std::mem::replace(&mut self.store, spare)).unwrap())
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn nats_missing() -> bool {
    Command::new("nats-server").arg("--version").output().is_err()
}

async fn next(received: &mut mpsc::UnboundedReceiver<Event>) -> u64 {
    tokio::time::timeout(Duration::from_secs(10), received.recv()).await.expect("in time").unwrap().seq()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_the_bus_in_order_once_and_after_nats_restarts() {
    if nats_missing() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true, yet nats-server is missing");
        eprintln!("NOT CHECKED: nats-server is missing");
        return;
    }
    let nats = Nats::start(free_port(), tempfile::tempdir().unwrap());
    let stop = CancellationToken::new();
    let east = Bus::connect(&nats.url(), "bus_test", "one").await.unwrap();
    let west = Bus::connect(&nats.url(), "bus_test", "one").await.unwrap();
    let (sent, _) = broadcast::channel::<Arc<Event>>(64);
    tokio::spawn(east.clone().publish(sent.subscribe(), stop.clone()));
    let (offered, mut received) = mpsc::unbounded_channel();
    tokio::spawn(west.clone().follow(move |event| drop(offered.send(event)), stop.clone()));
    until("the publisher is connected", || east.status.connected()).await;
    until("the follower follows", || west.status.up()).await;

    for seq in 1..=3 {
        sent.send(Arc::new(declared(seq, seq, 14).into())).unwrap();
    }
    assert_eq!([next(&mut received).await, next(&mut received).await, next(&mut received).await], [1, 2, 3]);
    // Another cluster's store on the same NATS and name: its events are never applied here.
    let stray = Bus::connect(&nats.url(), "bus_test", "another").await.unwrap();
    let (stray_sent, _) = broadcast::channel::<Arc<Event>>(4);
    tokio::spawn(stray.clone().publish(stray_sent.subscribe(), stop.clone()));
    until("the stray publisher is connected", || stray.status.connected()).await;
    stray_sent.send(Arc::new(declared(50, 50, 14).into())).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A repeat (the same seq published again, as every node republishes what it applied) is
    // dropped by its message id.
    sent.send(Arc::new(declared(2, 2, 14).into())).unwrap();
    sent.send(Arc::new(declared(4, 4, 14).into())).unwrap();
    assert_eq!(next(&mut received).await, 4, "neither a repeated seq nor another cluster's event is delivered");

    let (port, store) = nats.kill();
    until("the bus says it is down", || !west.status.up()).await;
    let nats = Nats::start(port, store);
    until("the bus is back after NATS is", || west.status.up() && east.status.connected()).await;
    // The publisher's client may reconnect a moment after the follower's: published until heard.
    let mut seq = 5;
    let heard = loop {
        sent.send(Arc::new(declared(seq, seq, 14).into())).unwrap();
        if let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(500), received.recv()).await {
            break event.seq();
        }
        seq += 1;
        assert!(seq < 40, "nothing crossed the bus after NATS came back");
    };
    assert_eq!(heard, seq, "what crosses after the restart is what was published then");
    assert!(west.status.render_metrics().contains("tryvoha_bus_up 1"));
    stop.cancel();
    drop(nats);
}
