//! `tryvoha siren`, the reference controller, against the real broker and server: it sounds on
//! a real air-raid alert over its region and stops on the all-clear, and refuses a replay, a
//! forged signature, a drill, another region's command and an expired one.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, BufReader};
use tryvoha::config::{FlagSettings, RawMqtt};
use tryvoha_core::{AlertId, AlertStatus, RegionId};
use tryvoha_live::Signer;
use tryvoha_mqtt::rumqttc::{AsyncClient, MqttOptions, QoS};
use tryvoha_mqtt::siren::COMMAND_TYPE;
use tryvoha_mqtt::{SirenAction, SirenCommand};

use crate::mqtt::{Recorder, mqtt_flags, shared_broker, unique_prefix};
use crate::support::{ADMIN, TestApp};

/// Publishes `payload` on `topic` as a stranger on the broker would.
async fn publish(host: &str, port: u16, topic: &str, payload: Vec<u8>) {
    let (client, mut eventloop) = AsyncClient::new(MqttOptions::new(unique_prefix("pub"), host, port), 8);
    client.publish(topic, QoS::AtLeastOnce, false, payload).await.expect("queued");
    // Until the broker acknowledged it.
    loop {
        match eventloop.poll().await.expect("connected") {
            tryvoha_mqtt::rumqttc::Event::Incoming(tryvoha_mqtt::rumqttc::Incoming::PubAck(_)) => break,
            _ => continue,
        }
    }
}

fn command(region: u32, counter: u64, status: AlertStatus, expires_at: OffsetDateTime) -> SirenCommand {
    SirenCommand {
        kind: COMMAND_TYPE.into(),
        region_id: RegionId(region),
        command: SirenAction::Sound,
        counter,
        status,
        alert_id: AlertId(1),
        issued_at: OffsetDateTime::now_utc(),
        expires_at,
    }
}

#[tokio::test]
async fn the_controller_acts_on_the_servers_commands_and_refuses_every_bad_one() {
    let Some((host, port)) = shared_broker() else { return };
    let prefix = unique_prefix("siren");
    let flags = FlagSettings {
        mqtt: RawMqtt { sirens: Some(vec![31]), ..mqtt_flags(&host, port, &prefix) },
        ..FlagSettings::default()
    };
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags).await;
    let topic = format!("{prefix}/v1/sirens/31/command");
    let recorder = Recorder::subscribe(&host, port, std::slice::from_ref(&topic), None).await;
    let mut controller = tokio::process::Command::new(env!("CARGO_BIN_EXE_tryvoha"))
        .args(["siren", "--mqtt-url", &format!("mqtt://{host}:{port}"), "--mqtt-prefix", &prefix, "--region", "31"])
        .args(["--keys", &format!("{}/api/v1/keys", app.base), "--exit-after", "7"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the controller starts");
    let mut lines = BufReader::new(controller.stdout.take().expect("stdout")).lines();
    let mut next_line = async || {
        tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("a line in time")
            .expect("reads")
            .expect("a line")
    };
    assert!(next_line().await.starts_with("siren 31: listening"), "said once the broker confirmed the subscription");

    let declared = app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "air_raid"})).await;
    assert_eq!(declared.status, 201);
    assert_eq!(next_line().await, "sound region=31 counter=1 alert=1");

    recorder.wait_until("the command as published", |r| !r.on(&topic).is_empty()).await;
    let replayed = recorder.on(&topic)[0].payload.clone().into_bytes();
    publish(&host, port, &topic, replayed).await;
    assert_eq!(
        next_line().await,
        "refused: counter 1 is not above the last one acted on (1): a replay or an older command"
    );

    let later = OffsetDateTime::now_utc() + time::Duration::minutes(2);
    let forger = Signer::from_seed([9; 32]);
    publish(&host, port, &topic, forger.sign_json(&command(31, 50, AlertStatus::Actual, later))).await;
    assert!(next_line().await.starts_with("refused: the signature does not verify"));

    // The server's own key, as a stolen or misused one would be: the other checks still hold.
    let key = Signer::load_or_create(&app.data.path().join("signing-key")).expect("the server's key");
    publish(&host, port, &topic, key.sign_json(&command(31, 51, AlertStatus::Exercise, later))).await;
    assert!(next_line().await.starts_with("refused: the command is Exercise, not actual"));
    publish(&host, port, &topic, key.sign_json(&command(14, 52, AlertStatus::Actual, later))).await;
    assert_eq!(next_line().await, "refused: the command is for region 14, this siren is region 31");
    let past = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    publish(&host, port, &topic, key.sign_json(&command(31, 53, AlertStatus::Actual, past))).await;
    assert!(next_line().await.starts_with("refused: the command expired at"));

    let id = declared.body["id"].as_u64().expect("id");
    assert_eq!(app.post(&format!("/api/v1/alerts/{id}/cancel"), ADMIN, json!({})).await.status, 200);
    assert_eq!(next_line().await, "stop region=31 counter=2 alert=1");
    let exited =
        tokio::time::timeout(Duration::from_secs(10), controller.wait()).await.expect("exits").expect("status");
    assert!(exited.success());
    app.stop().await;
}
