//! The MQTT channel against the real Mosquitto: the shared broker (`TRYVOHA_TEST_MQTT_URL`,
//! 127.0.0.1:1883 by default) with a topic prefix per test, and a broker of the test's own
//! (`mosquitto -p PORT`) where it must be stopped and started again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tryvoha::config::{FlagSettings, RawMqtt};
use tryvoha_live::{PublicKey, verify_signed_json};
use tryvoha_mqtt::rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};

use crate::support::{ADMIN, TestApp, not_checked};

/// The shared broker's address, or `None` (with the reason said) when there is none.
pub fn shared_broker() -> Option<(String, u16)> {
    let url = std::env::var("TRYVOHA_TEST_MQTT_URL").unwrap_or_else(|_| "mqtt://127.0.0.1:1883".into());
    let (host, port, _) = tryvoha_mqtt::options::parse_url(&url).expect("TRYVOHA_TEST_MQTT_URL is an mqtt:// URL");
    if std::net::TcpStream::connect((host.as_str(), port)).is_err() {
        not_checked(&format!("no MQTT broker answers at {url}"));
        return None;
    }
    Some((host, port))
}

pub fn unique_prefix(name: &str) -> String {
    format!("test-{name}-{}-{}", std::process::id(), rand_suffix())
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64)
}

pub fn mqtt_flags(host: &str, port: u16, prefix: &str) -> RawMqtt {
    RawMqtt { url: Some(format!("mqtt://{host}:{port}")), prefix: Some(prefix.into()), ..RawMqtt::default() }
}

/// A message as a subscriber received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub topic: String,
    pub payload: String,
    pub retained: bool,
}

/// A subscriber recording everything it receives on its topic filters. With `session`, it
/// keeps a broker-side session (clean session off) under that client id and subscribes at
/// QoS 1, so that messages published while it is away are kept for it.
pub struct Recorder {
    pub messages: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recorder {
    pub async fn subscribe(host: &str, port: u16, filters: &[String], session: Option<&str>) -> Recorder {
        let id = session.map_or_else(|| format!("recorder-{}", rand_suffix()), str::to_owned);
        let mut options = MqttOptions::new(id, host, port);
        options.set_clean_session(session.is_none());
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        let messages = Arc::new(Mutex::new(Vec::new()));
        let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
        let mut subscribed_tx = Some(subscribed_tx);
        let filters = filters.to_vec();
        // QoS 1 where the broker keeps the session; QoS 0 otherwise, since a broker queues at
        // most so many QoS 1 messages per client (Mosquitto: 1000), and all 1632 retained states
        // arrive at once on subscribing.
        let qos = if session.is_some() { QoS::AtLeastOnce } else { QoS::AtMostOnce };
        let recorded = messages.clone();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                        for filter in &filters {
                            let _ = client.subscribe(filter.clone(), qos).await;
                        }
                    }
                    Ok(Event::Incoming(Incoming::SubAck(_))) => {
                        if let Some(tx) = subscribed_tx.take() {
                            let _ = tx.send(());
                        }
                    }
                    Ok(Event::Incoming(Incoming::Publish(publish))) => {
                        recorded.lock().expect("lock").push(Received {
                            topic: publish.topic.clone(),
                            payload: String::from_utf8_lossy(&publish.payload).into_owned(),
                            retained: publish.retain,
                        });
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), subscribed)
            .await
            .expect("subscribed in time")
            .expect("subscribed");
        Recorder { messages, task }
    }

    pub fn all(&self) -> Vec<Received> {
        self.messages.lock().expect("lock").clone()
    }

    pub fn on(&self, topic: &str) -> Vec<Received> {
        self.all().into_iter().filter(|m| m.topic == topic).collect()
    }

    pub fn last_json(&self, topic: &str) -> Option<Value> {
        self.on(topic).last().map(|m| serde_json::from_str(&m.payload).expect("JSON payload"))
    }

    /// Waits (at most 20 s: a bound on a hang, not a timing claim) until `done` holds.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&Recorder) -> bool) {
        for _ in 0..400 {
            if done(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("waited in vain for {what}; received {:#?}", self.all().iter().rev().take(10).collect::<Vec<_>>());
    }

    /// The sequence numbers of the events received on `topic`, in the order they arrived.
    pub fn event_seqs(&self, topic: &str) -> Vec<u64> {
        self.on(topic)
            .iter()
            .map(|m| serde_json::from_str::<Value>(&m.payload).expect("JSON")["seq"].as_u64().expect("seq"))
            .collect()
    }
}

pub async fn server_keys(app: &TestApp) -> Vec<PublicKey> {
    let keys = app.get("/api/v1/keys").await.body;
    keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| PublicKey {
            kid: k["kid"].as_str().expect("kid").into(),
            algorithm: "Ed25519",
            public_key: k["public_key"].as_str().expect("key").into(),
        })
        .collect()
}

#[tokio::test]
async fn states_events_and_oblast_strings_follow_the_log_and_a_drill_changes_no_state() {
    let Some((host, port)) = shared_broker() else { return };
    let prefix = unique_prefix("states");
    let flags = FlagSettings {
        mqtt: RawMqtt { ha_regions: Some(vec!["31".into()]), ..mqtt_flags(&host, port, &prefix) },
        compat_anonymous: Some(true),
        ..FlagSettings::default()
    };
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags).await;
    let recorder = Recorder::subscribe(&host, port, &[format!("{prefix}/#")], None).await;
    let events = format!("{prefix}/v1/events");
    let kyiv = format!("{prefix}/v1/regions/31/state");
    recorder
        .wait_until("every region's retained state", |r| {
            r.all().iter().filter(|m| m.topic.ends_with("/state")).count() >= 1632
        })
        .await;
    assert_eq!(recorder.last_json(&kyiv).expect("Kyiv's state")["state"], "clear");

    let declared =
        app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "air_raid", "threats": ["drones"]})).await;
    assert_eq!(declared.status, 201);
    let drill =
        app.post("/api/v1/alerts", ADMIN, json!({"region_id": 12, "kind": "air_raid", "status": "exercise"})).await;
    assert_eq!(drill.status, 201);
    recorder.wait_until("both events", |r| r.on(&events).len() >= 2).await;
    recorder.wait_until("Kyiv under alert", |r| r.last_json(&kyiv).is_some_and(|s| s["state"] == "alert")).await;

    let state = recorder.last_json(&kyiv).expect("state");
    assert_eq!(state["alerts"][0]["kind"], "air_raid");
    assert_eq!(state["alerts"][0]["threats"], json!(["drones"]));
    assert_eq!(state["alerts"][0]["since"], declared.body["started_at"]);
    let keys = server_keys(&app).await;
    let published = recorder.on(&events);
    for message in &published {
        assert!(!message.retained, "events are not retained");
        verify_signed_json(&message.payload, &keys).expect("every event's frame verifies with /api/v1/keys");
    }
    let statuses: Vec<Value> = published
        .iter()
        .map(|m| serde_json::from_str::<Value>(&m.payload).expect("JSON")["alert"]["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("actual"), json!("exercise")], "the drill is in events, with its status");

    for version in [1, 2] {
        let topic = format!("{prefix}/v{version}/iot/oblasts");
        let over_http = app.get(&format!("/v{version}/iot/active_air_raid_alerts_by_oblast.json")).await.body;
        recorder
            .wait_until("the oblast string", |r| {
                r.on(&topic).last().is_some_and(|m| Value::String(m.payload.clone()) == over_http)
            })
            .await;
    }
    // A subscriber that comes later gets the state as the broker retained it.
    let late = Recorder::subscribe(&host, port, &[kyiv.clone(), format!("{prefix}/v1/iot/oblasts")], None).await;
    late.wait_until("the retained documents", |r| r.all().len() >= 2).await;
    assert!(late.all().iter().all(|m| m.retained), "states and oblast strings are retained: {:?}", late.all());
    assert_eq!(late.last_json(&kyiv).expect("retained state")["state"], "alert");

    let sensor = format!("{prefix}/v1/regions/31/kinds/air_raid");
    recorder.wait_until("the air-raid sensor on", |r| r.last_json(&sensor).is_some_and(|s| s["state"] == "ON")).await;
    assert_eq!(recorder.last_json(&sensor).expect("sensor")["level"], "red");

    let id = declared.body["id"].as_u64().expect("id");
    assert_eq!(app.post(&format!("/api/v1/alerts/{id}/cancel"), ADMIN, json!({})).await.status, 200);
    recorder.wait_until("the all-clear", |r| r.last_json(&kyiv).is_some_and(|s| s["state"] == "clear")).await;
    recorder.wait_until("the sensor off", |r| r.last_json(&sensor).is_some_and(|s| s["state"] == "OFF")).await;
    let seqs = recorder.event_seqs(&events);
    assert_eq!(seqs, vec![1, 2, 3], "every event once, in sequence order");
    // Checked last, after the all-clear's publishes: whatever the drill (seq 2) could have
    // published has arrived by now.
    let drilled = recorder.on(&format!("{prefix}/v1/regions/12/state"));
    assert!(!drilled.is_empty(), "the region's state was published at connection");
    assert!(drilled.iter().all(|m| !m.payload.contains("\"alert\"")), "a drill never changes a state: {drilled:?}");
    app.stop().await;
}

#[tokio::test]
async fn home_assistant_discovery_describes_a_safety_sensor_per_region_and_kind() {
    let Some((host, port)) = shared_broker() else { return };
    let prefix = unique_prefix("ha");
    let discovery = format!("ha{}", rand_suffix());
    let flags = FlagSettings {
        mqtt: RawMqtt {
            ha_regions: Some(vec!["all-oblasts".into()]),
            ha_discovery_prefix: Some(discovery.clone()),
            ..mqtt_flags(&host, port, &prefix)
        },
        ..FlagSettings::default()
    };
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags).await;
    let recorder = Recorder::subscribe(&host, port, &[format!("{discovery}/#"), format!("{prefix}/#")], None).await;
    let kinds = 5;
    recorder
        .wait_until("27 oblasts' sensors", |r| {
            r.all().iter().filter(|m| m.topic.starts_with(&discovery)).count() >= 27 * kinds
        })
        .await;
    let node = prefix.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-', "_");
    // A subscriber that comes later gets them as the broker retained them.
    let late = Recorder::subscribe(&host, port, &[format!("{discovery}/#")], None).await;
    late.wait_until("the retained configs", |r| r.all().len() >= 27 * kinds).await;
    let configs = late.all();
    let mut unique_ids = std::collections::HashSet::new();
    for message in &configs {
        assert!(message.retained, "discovery configs are retained");
        assert!(
            message.topic.starts_with(&format!("{discovery}/binary_sensor/{node}/"))
                && message.topic.ends_with("/config"),
            "{}",
            message.topic
        );
        let config: Value = serde_json::from_str(&message.payload).expect("JSON");
        // The keys Home Assistant's MQTT binary sensor schema documents, with these values.
        for key in [
            "name",
            "unique_id",
            "state_topic",
            "device",
            "availability_topic",
            "value_template",
            "json_attributes_topic",
        ] {
            assert!(config.get(key).is_some(), "{key} missing in {config}");
        }
        assert_eq!(config["device_class"], "safety");
        assert_eq!((config["payload_on"].as_str(), config["payload_off"].as_str()), (Some("ON"), Some("OFF")));
        assert_eq!(config["availability_topic"], format!("{prefix}/status"));
        assert_eq!(
            (config["payload_available"].as_str(), config["payload_not_available"].as_str()),
            (Some("online"), Some("offline"))
        );
        assert!(config["device"]["identifiers"].as_array().is_some_and(|ids| !ids.is_empty()));
        assert!(
            unique_ids.insert(config["unique_id"].as_str().expect("unique_id").to_owned()),
            "unique ids are unique"
        );
        let state_topic = config["state_topic"].as_str().expect("state topic").to_owned();
        recorder.wait_until("the sensor's state", |r| !r.on(&state_topic).is_empty()).await;
        let state = recorder.last_json(&state_topic).expect("state");
        assert_eq!(state["state"], "OFF", "{state_topic}");
    }
    assert_eq!(unique_ids.len(), 27 * kinds);
    assert_eq!(recorder.on(&format!("{prefix}/status")).last().map(|m| m.payload.clone()).as_deref(), Some("online"));
    app.stop().await;
    recorder
        .wait_until("offline at a clean stop", |r| {
            r.on(&format!("{prefix}/status")).last().is_some_and(|m| m.payload == "offline")
        })
        .await;
}
