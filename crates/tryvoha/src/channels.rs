//! The channels that follow the log beside the live streams (MQTT, webhooks, Web Push):
//! started with the server, each a task this owns, stopped before the writer so that their
//! last cursors are written while the store is open.
//!
//! Each channel sends from one node at a time: on a store shared by a cluster it runs under a
//! lease of its own (`tryvoha_cluster::Singleton`); a server alone on its store just runs it.
//! On a shared store every node takes subscriptions and endpoints into the store, and every
//! node reads them again every few seconds (`RELOAD`, `PUSH_RELOAD`).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tryvoha_cluster::{LEASE_TTL, LeaseStatus, Singleton, reread_every};
use tryvoha_core::RegionRegistry;
use tryvoha_engine::Engine;
use tryvoha_follow::{CursorKeeper, LogReader};
use tryvoha_live::{Hub, Signer};
use tryvoha_mqtt::{MqttStatus, Publisher};
use tryvoha_store::{CursorStore, LeaseStore, Store};
use tryvoha_webhooks::Webhooks;

use crate::config::{MqttChannel, PushSettings, WebhookSettings};

/// How often the channels' cursors are written: after a crash a channel repeats at most this
/// much of what its far side had acknowledged.
const CURSOR_FLUSH: Duration = Duration::from_millis(500);
/// How long a stopping channel may take to finish (a clean MQTT disconnect, say).
const STOP_DEADLINE: Duration = Duration::from_secs(5);
/// In a cluster, how often every node reads the webhook endpoints the other nodes changed.
const RELOAD: Duration = Duration::from_secs(2);
/// In a cluster, how often every node reads the push subscriptions again (a full read of the
/// table: docs/DEPLOYMENT.md says what it costs).
const PUSH_RELOAD: Duration = Duration::from_secs(5);

pub struct Channels {
    stop: CancellationToken,
    /// Taken by [`Channels::stop`].
    tasks: std::sync::Mutex<Vec<(&'static str, JoinHandle<()>)>>,
    keeper: Arc<CursorKeeper>,
    pub mqtt: Option<Arc<MqttStatus>>,
    pub webhooks: Arc<Webhooks>,
    pub push: tryvoha_http::PushState,
    push_status: Arc<tryvoha_push::PushStatus>,
    /// Each channel's lease: whether this node sends it.
    leases: Vec<(&'static str, Arc<LeaseStatus>)>,
}

pub struct Parts<'a> {
    pub engine: &'a Engine,
    pub hub: &'a Arc<Hub>,
    pub signer: &'a Arc<Signer>,
    pub store: Arc<dyn Store>,
    pub registry: &'a Arc<RegionRegistry>,
    /// The VAPID key (the cluster's, on a shared store).
    pub vapid: Arc<tryvoha_push::VapidKey>,
    /// Whether other nodes share the store (a cluster): then the channels run under leases, and
    /// every node reads again what the others took.
    pub shared: bool,
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
        let vapid = parts.vapid.clone();
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
            Ok(endpoints) => tracing::info!(endpoints, "webhook endpoints loaded"),
            Err(error) => {
                webhooks.stop(STOP_DEADLINE).await;
                return Err(anyhow::Error::new(error).context("cannot load the webhook endpoints"));
            }
        }
        tracing::info!(subscribed, "push subscriptions loaded");
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        let mut leases = Vec::new();
        let lease_store: Arc<dyn LeaseStore> = parts.store.clone();
        // A server alone on its store (its data directory's lock keeps it so) needs no lease:
        // each channel runs for as long as it does. A node of a cluster holds them in its name.
        let holder = tryvoha_cluster::node_name();
        let mut singleton = |name: &'static str| {
            let status = Arc::new(LeaseStatus::default());
            leases.push((name, status.clone()));
            Singleton { store: lease_store.clone(), name, holder: holder.clone(), ttl: LEASE_TTL, status }
        };
        let push_status = Arc::new(tryvoha_push::PushStatus::default());
        let sender = Arc::new(tryvoha_push::Sender {
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
        });
        let (shared, push_keeper) = (parts.shared, keeper.clone());
        let push = move |working: CancellationToken| {
            let (sender, keeper) = (sender.clone(), push_keeper.clone());
            async move {
                if shared && let Err(error) = sender.subscriptions.load().await {
                    tracing::warn!(%error, "push: cannot read the subscriptions; sending to those known");
                }
                lead(&keeper, "push", (*sender).clone().run(working.cancelled_owned())).await;
            }
        };
        tasks.push(("push", tokio::spawn(under_lease(parts.shared, singleton("push"), push, stop.child_token()))));
        let hooks = webhooks.clone();
        let leading = move |working: CancellationToken| {
            let hooks = hooks.clone();
            async move {
                // Until the endpoints could be read: a sending node with no senders sends nothing.
                while let Err(error) = hooks.lead().await {
                    tracing::warn!(%error, "cannot read the webhook endpoints to send to them; trying again");
                    tokio::select! {
                        () = working.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
                working.cancelled().await;
                hooks.follow().await;
            }
        };
        tasks.push((
            "webhooks",
            tokio::spawn(under_lease(parts.shared, singleton("webhooks"), leading, stop.child_token())),
        ));
        if parts.shared {
            let (hooks, stopped) = (webhooks.clone(), stop.child_token());
            let reread = reread_every("webhook endpoints", RELOAD, stopped, move || {
                let hooks = hooks.clone();
                async move { hooks.reload().await }
            });
            tasks.push(("webhook reload", tokio::spawn(reread)));
            // On every node: the sender sends to what others took, and every node knows which
            // endpoint is whose when a browser renews or unsubscribes through it.
            let (subscribed, stopped) = (subscriptions.clone(), stop.child_token());
            let reread = reread_every("push subscriptions", PUSH_RELOAD, stopped, move || {
                let subscribed = subscribed.clone();
                async move { subscribed.load().await }
            });
            tasks.push(("push reload", tokio::spawn(reread)));
        }
        tasks.push(("cursors", tokio::spawn(keeper.clone().keep(CURSOR_FLUSH, stop.clone().cancelled_owned()))));
        let mut status = None;
        if let Some(settings) = mqtt {
            let mqtt_status = Arc::new(MqttStatus::default());
            let log: Arc<dyn LogReader> = Arc::new(parts.engine.clone());
            let (source, hub, signer) = (parts.engine.event_source(), parts.hub.clone(), parts.signer.clone());
            let (mqtt_keeper, published) = (keeper.clone(), mqtt_status.clone());
            let publish = move |working: CancellationToken| {
                let publisher = Publisher {
                    settings: settings.clone(),
                    source: source.clone(),
                    log: log.clone(),
                    hub: hub.clone(),
                    signer: signer.clone(),
                    cursors: mqtt_keeper.clone(),
                    status: published.clone(),
                };
                let keeper = mqtt_keeper.clone();
                async move { lead(&keeper, "mqtt", publisher.run(working.cancelled_owned())).await }
            };
            tasks.push(("mqtt", tokio::spawn(under_lease(shared, singleton("mqtt"), publish, stop.child_token()))));
            status = Some(mqtt_status);
        }
        let push = tryvoha_http::PushState::new(subscriptions, vapid.public_key());
        Ok(Channels {
            stop,
            tasks: std::sync::Mutex::new(tasks),
            keeper,
            mqtt: status,
            webhooks,
            push,
            push_status,
            leases,
        })
    }

    /// What the channels add to `/metrics`.
    pub fn metrics(&self) -> String {
        let mut text = self.mqtt.as_ref().map(|status| status.render_metrics()).unwrap_or_default();
        text.push_str(&self.webhooks.render_metrics());
        text.push_str(&self.push_status.render_metrics(self.push.subscriptions.len()));
        text.push_str(
            "# HELP tryvoha_channel_lease_held 1 while this node sends the channel (it holds its lease).\n\
             # TYPE tryvoha_channel_lease_held gauge\n",
        );
        for (name, status) in &self.leases {
            text.push_str(&format!("tryvoha_channel_lease_held{{channel=\"{name}\"}} {}\n", u8::from(status.held())));
        }
        text
    }

    /// Stops every channel (each gives its lease up), then writes the cursors one last time.
    pub async fn stop(&self) {
        self.stop.cancel();
        self.webhooks.stop(STOP_DEADLINE).await;
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

/// A channel's work: on a shared store while this node holds its lease, on a store alone for
/// as long as the server runs.
async fn under_lease<W, F>(shared: bool, singleton: Singleton, work: W, stop: CancellationToken)
where
    W: FnMut(CancellationToken) -> F,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    if shared { singleton.run(work, stop).await } else { singleton.run_alone(work, stop).await }
}

/// Runs a channel's work while this node holds its lease: its cursor is read anew first (another
/// node may have sent since), and written when it ends, then left for the next sending node.
async fn lead(keeper: &CursorKeeper, consumer: &str, work: impl std::future::Future<Output = ()>) {
    keeper.forget(consumer);
    work.await;
    if let Err(error) = keeper.flush().await {
        tracing::warn!(%error, consumer, "cannot write the channel's cursor; its last deliveries will repeat");
    }
    keeper.forget(consumer);
}
