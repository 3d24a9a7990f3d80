//! The MQTT publisher across restarts, on a Mosquitto of the test's own: a broker that goes away
//! and comes back, a server that stops while the broker is away. Every event arrives once the
//! two meet again, in order; the retained states are published again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use tryvoha::config::FlagSettings;

use crate::mqtt::{Recorder, mqtt_flags, unique_prefix};
use crate::support::{ADMIN, TestApp, not_checked};

/// `mosquitto` on a port of its own, keeping its sessions and retained messages in `dir` (saved
/// when it stops), so that a subscriber's queued messages survive the broker's restart.
pub struct OwnBroker {
    child: Option<std::process::Child>,
    pub port: u16,
    config: PathBuf,
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

impl OwnBroker {
    /// `None` (with the reason said) when there is no `mosquitto` to run.
    pub fn start(dir: &Path) -> Option<OwnBroker> {
        OwnBroker::start_with(dir, "")
    }

    /// With `extra` lines in its configuration (TLS, say).
    pub fn start_with(dir: &Path, extra: &str) -> Option<OwnBroker> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
        let config = dir.join("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n{extra}",
                dir.display()
            ),
        )
        .expect("config");
        let mut broker = OwnBroker { child: None, port, config };
        if !broker.restart() {
            not_checked("mosquitto is not installed (Debian package mosquitto)");
            return None;
        }
        Some(broker)
    }

    /// Starts the broker again on the same port; false when it cannot be run at all.
    pub fn restart(&mut self) -> bool {
        let Ok(child) = std::process::Command::new("mosquitto")
            .arg("-c")
            .arg(&self.config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        else {
            return false;
        };
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("mosquitto did not start on port {}", self.port);
    }

    /// Stops it as an operator would (SIGTERM: it saves its sessions) and waits.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = std::process::Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn events_made_while_the_broker_was_away_and_the_server_restarted_arrive_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(mut broker) = OwnBroker::start(dir.path()) else { return };
    let prefix = unique_prefix("restarts");
    let port = broker.port;
    let flags = || FlagSettings { mqtt: mqtt_flags("127.0.0.1", port, &prefix), ..FlagSettings::default() };
    let events = format!("{prefix}/v1/events");
    // A subscriber with a session the broker keeps: QoS 1 events published while it is away
    // are queued for it, so it tells what the server published from what it did not.
    let session = format!("recorder-{prefix}");
    let recorder = Recorder::subscribe("127.0.0.1", broker.port, std::slice::from_ref(&events), Some(&session)).await;
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags()).await;
    let declare = |region: u32| json!({"region_id": region, "kind": "air_raid"});
    assert_eq!(app.post("/api/v1/alerts", ADMIN, declare(31)).await.status, 201);
    recorder.wait_until("the first event", |r| r.event_seqs(&events) == [1]).await;

    broker.stop();
    assert_eq!(app.post("/api/v1/alerts", ADMIN, declare(14)).await.status, 201, "the API does not wait for MQTT");
    assert_eq!(app.post("/api/v1/alerts", ADMIN, declare(26)).await.status, 201);
    let data = app.stop().await;
    assert!(broker.restart());
    let app = TestApp::spawn_with(data, flags()).await;
    assert_eq!(app.post("/api/v1/alerts", ADMIN, declare(12)).await.status, 201);
    recorder.wait_until("every event", |r| r.event_seqs(&events).last() == Some(&4)).await;
    let mut seqs = recorder.event_seqs(&events);
    seqs.dedup();
    assert_eq!(seqs, vec![1, 2, 3, 4], "in order, none missing (a repeat is allowed, a gap is not)");

    // Every state is published again on the new connection, the ones changed meanwhile too.
    let states = Recorder::subscribe("127.0.0.1", broker.port, &[format!("{prefix}/v1/regions/+/state")], None).await;
    states.wait_until("every region's state", |r| r.all().len() >= 1632).await;
    for region in [31, 14, 26, 12] {
        let state = states.last_json(&format!("{prefix}/v1/regions/{region}/state")).expect("a state");
        assert_eq!(state["state"], "alert", "region {region}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_publisher_speaks_tls_to_a_broker_whose_ca_it_is_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("certificate");
    let (cert, key) = (dir.path().join("broker.pem"), dir.path().join("broker.key"));
    std::fs::write(&cert, certified.cert.pem()).expect("cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key");
    let tls = format!("cafile {0}\ncertfile {0}\nkeyfile {1}\n", cert.display(), key.display());
    let Some(broker) = OwnBroker::start_with(dir.path(), &tls) else { return };
    let prefix = unique_prefix("tls");
    let mqtt = tryvoha::config::RawMqtt {
        url: Some(format!("mqtts://127.0.0.1:{}", broker.port)),
        prefix: Some(prefix),
        ca_file: Some(cert.clone()),
        ..Default::default()
    };
    let app =
        TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), FlagSettings { mqtt, ..FlagSettings::default() })
            .await;
    assert_eq!(app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "air_raid"})).await.status, 201);
    // The broker acknowledged the event's publishes: the connection is TLS (the listener
    // speaks nothing else) and the certificate was checked against the given CA.
    let mut acknowledged = false;
    for _ in 0..400 {
        let metrics =
            app.client.get(format!("{}/metrics", app.base)).send().await.expect("metrics").text().await.expect("text");
        if metrics.contains("tryvoha_mqtt_acknowledged_seq 1") {
            acknowledged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(acknowledged, "the event was not acknowledged over TLS");
    app.stop().await;
}
