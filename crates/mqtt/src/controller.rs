//! The reference siren controller's loop: subscribe to one siren's command topic, check every
//! command ([`SirenGuard`]), and hand each outcome to the caller, which sounds, stops or logs.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, Incoming, QoS, SubscribeReasonCode};
use time::OffsetDateTime;
use tryvoha_core::RegionId;

use crate::options::{MqttSettings, OptionsError, client_options};
use crate::siren::{Refusal, SirenCommand, SirenGuard};

/// What one received command came to, or that the controller is listening (subscribed, after
/// each connection).
pub enum Heard {
    Subscribed,
    Command(Result<SirenCommand, Refusal>),
}

/// Follows `region`'s command topic until `on_heard` returns false or the task is dropped,
/// reconnecting after a lost connection. `guard` carries the last counter acted on, so a
/// command replayed after a reconnect (a retained one, say) is refused.
pub async fn run(
    settings: &MqttSettings,
    region: RegionId,
    mut guard: SirenGuard,
    mut on_heard: impl FnMut(Heard, &SirenGuard) -> bool,
) -> Result<(), OptionsError> {
    let topic = settings.topics().siren_command(region);
    let client_id = format!("{}-siren-{}", settings.client_id, region.0);
    let options = client_options(settings, &client_id, None)?;
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                // A fresh session each time: subscribe again (the retained command comes too).
                let _ = client.subscribe(topic.clone(), QoS::AtLeastOnce).await;
            }
            Ok(Event::Incoming(Incoming::SubAck(ack))) => {
                if ack.return_codes.iter().any(|code| matches!(code, SubscribeReasonCode::Failure)) {
                    // The broker refused the subscription (its ACL, say): not listening.
                    tracing::warn!(%topic, "siren: the broker refused the subscription; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let _ = client.subscribe(topic.clone(), QoS::AtLeastOnce).await;
                    continue;
                }
                if !on_heard(Heard::Subscribed, &guard) {
                    let _ = client.disconnect().await;
                    return Ok(());
                }
            }
            Ok(Event::Incoming(Incoming::Publish(publish))) if publish.topic == topic => {
                let outcome = match std::str::from_utf8(&publish.payload) {
                    // A tool that re-publishes a saved command may add a newline; the signature
                    // covers the JSON, not what follows it.
                    Ok(text) => guard.check(text.trim_end(), OffsetDateTime::now_utc()),
                    Err(_) => Err(Refusal::Malformed("not UTF-8".into())),
                };
                if !on_heard(Heard::Command(outcome), &guard) {
                    let _ = client.disconnect().await;
                    return Ok(());
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "siren: connection lost; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
