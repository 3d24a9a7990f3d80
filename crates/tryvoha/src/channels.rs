//! The channels that follow the log beside the live streams (MQTT now; webhooks beside it):
//! started with the server, each a task this owns, stopped before the writer so that their
//! last cursors are written while the store is open.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tryvoha_core::RegionRegistry;
use tryvoha_engine::Engine;
use tryvoha_follow::{CursorKeeper, LogReader};
use tryvoha_live::{Hub, Signer};
use tryvoha_mqtt::{MqttStatus, Publisher};
use tryvoha_store::{CursorStore, Store};
use tryvoha_webhooks::Webhooks;

use crate::config::{MqttChannel, PushSettings, WebhookSettings};

/// How often the channels' cursors are written: after a crash a channel repeats at most this
/// much of what its far side had acknowledged.
const CURSOR_FLUSH: Duration = Duration::from_millis(500);
/// How long a stopping channel may take to finish (a clean MQTT disconnect, say).
const STOP_DEADLINE: Duration = Duration::from_secs(5);

pub struct Channels {
    stop: CancellationToken,
    /// Taken by [`Channels::stop`].
    tasks: std::sync::Mutex<Vec<(&'static str, JoinHandle<()>)>>,
    keeper: Arc<CursorKeeper>,
    pub mqtt: Option<Arc<MqttStatus>>,
    pub webhooks: Arc<Webhooks>,
    pub push: tryvoha_http::PushState,
    push_status: Arc<tryvoha_push::PushStatus>,
}

pub struct Parts<'a> {
    pub engine: &'a Engine,
    pub hub: &'a Arc<Hub>,
    pub signer: &'a Arc<Signer>,
    pub store: Arc<dyn Store>,
    pub registry: &'a Arc<RegionRegistry>,
    /// Where the VAPID key is kept.
    pub data: &'a std::path::Path,
}

impl Channels {
    pub async fn start(
        mqtt: Option<&MqttChannel>,
        webhook_settings: &WebhookSettings,
        push_settings: &PushSettings,
        parts: Parts<'_>,
    ) -> anyhow::Result<Channels> {
        // Everything that can fail comes before any task is spawned, so that a failed start
        // leaves nothing running.
        let mqtt = match mqtt {
            Some(channel) => {
                let mut settings = channel.settings.clone();
                settings.ha_regions = channel.ha_regions.resolve(parts.registry)?;
                if let Some(unknown) = settings.sirens.iter().find(|id| parts.registry.get(**id).is_none()) {
                    anyhow::bail!("mqtt sirens names region {}, which is not in the registry", unknown.0);
                }
                Some(settings)
            }
            None => None,
        };
        let vapid_path = parts.data.join("vapid-key");
        let vapid = Arc::new(
            tryvoha_push::VapidKey::load_or_create(&vapid_path)
                .map_err(|error| anyhow::anyhow!("cannot load {}: {error}", vapid_path.display()))?,
        );
        let subscriptions = Arc::new(
            tryvoha_push::Subscriptions::new(
                parts.store.clone(),
                parts.registry.clone(),
                tryvoha_push::EndpointPolicy { allowed_prefixes: push_settings.allow_endpoints.clone() },
            )
            .with_max(push_settings.max_subscriptions),
        );
        let subscribed = subscriptions
            .load()
            .await
            .map_err(|error| anyhow::anyhow!("cannot load the push subscriptions: {error}"))?;
        let (public_client, allowed_client) = tryvoha_push::sender::clients().map_err(anyhow::Error::msg)?;
        let cursors: Arc<dyn CursorStore> = parts.store.clone();
        let keeper = CursorKeeper::new(cursors);
        let webhooks = Webhooks::new(tryvoha_webhooks::Parts {
            store: parts.store.clone(),
            source: parts.engine.event_source(),
            log: Arc::new(parts.engine.clone()),
            hub: parts.hub.clone(),
            signer: parts.signer.clone(),
            cursors: keeper.clone(),
            allow_private: webhook_settings.allow_private.clone(),
            retry_for: webhook_settings.retry_for,
        })
        .map_err(anyhow::Error::msg)?;
        match webhooks.start().await {
            Ok(endpoints) => tracing::info!(endpoints, "webhooks started"),
            Err(error) => {
                webhooks.stop(STOP_DEADLINE).await;
                return Err(anyhow::Error::new(error).context("cannot load the webhook endpoints"));
            }
        }
        tracing::info!(subscribed, "web push started");
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        let push_status = Arc::new(tryvoha_push::PushStatus::default());
        let sender = tryvoha_push::Sender {
            subscriptions: subscriptions.clone(),
            source: parts.engine.event_source(),
            hub: parts.hub.clone(),
            signer: parts.signer.clone(),
            vapid: vapid.clone(),
            contact: push_settings.contact.clone(),
            cursors: keeper.clone(),
            status: push_status.clone(),
            public_client,
            allowed_client,
        };
        tasks.push(("push", tokio::spawn(sender.run(stop.clone().cancelled_owned()))));
        tasks.push(("cursors", tokio::spawn(keeper.clone().keep(CURSOR_FLUSH, stop.clone().cancelled_owned()))));
        let mut status = None;
        if let Some(settings) = mqtt {
            let mqtt_status = Arc::new(MqttStatus::default());
            let log: Arc<dyn LogReader> = Arc::new(parts.engine.clone());
            let publisher = Publisher {
                settings,
                source: parts.engine.event_source(),
                log,
                hub: parts.hub.clone(),
                signer: parts.signer.clone(),
                cursors: keeper.clone(),
                status: mqtt_status.clone(),
            };
            tasks.push(("mqtt", tokio::spawn(publisher.run(stop.clone().cancelled_owned()))));
            status = Some(mqtt_status);
        }
        let push = tryvoha_http::PushState::new(subscriptions, vapid.public_key());
        Ok(Channels { stop, tasks: std::sync::Mutex::new(tasks), keeper, mqtt: status, webhooks, push, push_status })
    }

    /// What the channels add to `/metrics`.
    pub fn metrics(&self) -> String {
        let mut text = self.mqtt.as_ref().map(|status| status.render_metrics()).unwrap_or_default();
        text.push_str(&self.webhooks.render_metrics());
        text.push_str(&self.push_status.render_metrics(self.push.subscriptions.len()));
        text
    }

    /// Stops every channel, then writes the cursors one last time.
    pub async fn stop(&self) {
        self.webhooks.stop(STOP_DEADLINE).await;
        self.stop.cancel();
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        for (name, task) in tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout(STOP_DEADLINE, task).await.is_err() {
                tracing::warn!(channel = name, "a channel did not stop in time; stopped");
                abort.abort();
            }
        }
        if let Err(error) = self.keeper.flush().await {
            tracing::warn!(%error, "cannot write the channel cursors; their last deliveries will repeat");
        }
    }
}
