//! The cluster bus: each node publishes the events it committed to one JetStream subject of the
//! cluster (`tryvoha.<cluster>.events`, message id = seq, so a repeat is dropped by JetStream's
//! duplicate window), and follows that subject with an ordered consumer, handing each event to
//! its engine, which applies it only when it is the next one and reads the log otherwise.
//!
//! The bus is a wake-up, never the record (JetStream acknowledges before its `fsync` by
//! default, and has lost acknowledged writes under faults): a message lost, NATS down, or a
//! node cut off from it only delay an event until the node reads the log, which it does every
//! half second on its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer::DeliverPolicy, stream::StorageType};
use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tryvoha_core::Event;

/// How long a publish may wait for NATS before the event is left to the log.
const PUBLISH_WAIT: Duration = Duration::from_secs(1);
/// How long between tries to set the stream and the consumer up again.
const RETRY: Duration = Duration::from_secs(1);
/// JetStream keeps the events this long: the bus is for now, the log for ever.
const KEEP: Duration = Duration::from_secs(3600);

/// What `/readyz` and `/metrics` say of the bus.
#[derive(Debug, Default)]
pub struct BusStatus {
    connected: AtomicBool,
    following: AtomicBool,
    published: AtomicU64,
    publish_failures: AtomicU64,
    received: AtomicU64,
}

impl BusStatus {
    /// Connected to NATS (publishing works).
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Connected to NATS and following the cluster's stream.
    pub fn up(&self) -> bool {
        self.connected.load(Ordering::Relaxed) && self.following.load(Ordering::Relaxed)
    }

    pub fn render_metrics(&self) -> String {
        format!(
            "# HELP tryvoha_bus_up 1 while this node is connected to NATS and follows the cluster's stream.\n\
             # TYPE tryvoha_bus_up gauge\ntryvoha_bus_up {}\n\
             # HELP tryvoha_bus_published_total Events this node published to the cluster bus.\n\
             # TYPE tryvoha_bus_published_total counter\ntryvoha_bus_published_total {}\n\
             # HELP tryvoha_bus_publish_failures_total Publishes NATS did not acknowledge (the others read the log).\n\
             # TYPE tryvoha_bus_publish_failures_total counter\ntryvoha_bus_publish_failures_total {}\n\
             # HELP tryvoha_bus_received_total Events this node received from the cluster bus.\n\
             # TYPE tryvoha_bus_received_total counter\ntryvoha_bus_received_total {}\n",
            u8::from(self.up()),
            self.published.load(Ordering::Relaxed),
            self.publish_failures.load(Ordering::Relaxed),
            self.received.load(Ordering::Relaxed),
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the bus URL {0:?} is not a NATS URL (nats://HOST:PORT)")]
    BadUrl(String),
    #[error("cannot connect to NATS")]
    Connect(#[source] async_nats::ConnectError),
}

/// A node's link to the cluster's NATS.
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    subject: String,
    stream: String,
    /// The cluster's id, kept in its store: every message carries it, and one that carries
    /// another (a second cluster of the same name on this NATS, a stray publisher) is dropped,
    /// never applied.
    cluster_id: String,
    pub status: Arc<BusStatus>,
}

/// The header that says which cluster's store a message's event is from.
const CLUSTER_ID_HEADER: &str = "Tryvoha-Cluster-Id";

impl Bus {
    /// Connects in the background: a node starts (and serves, following the log) while NATS is
    /// down, and the client reconnects for as long as the node runs.
    pub async fn connect(url: &str, cluster: &str, cluster_id: &str) -> Result<Bus, BusError> {
        if !url.starts_with("nats://") && !url.starts_with("tls://") {
            return Err(BusError::BadUrl(url.to_owned()));
        }
        let status = Arc::new(BusStatus::default());
        let events = status.clone();
        let client = async_nats::ConnectOptions::new()
            .name(format!("tryvoha {cluster}"))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| Duration::from_millis(250 * attempts.min(8) as u64))
            .event_callback(move |event| {
                let events = events.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => events.connected.store(true, Ordering::Relaxed),
                        async_nats::Event::Disconnected => events.connected.store(false, Ordering::Relaxed),
                        other => tracing::debug!(event = %other, "nats"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(BusError::Connect)?;
        let jetstream = jetstream::new(client.clone());
        Ok(Bus {
            client,
            jetstream,
            subject: format!("tryvoha.{cluster}.events"),
            stream: format!("TRYVOHA_{cluster}"),
            cluster_id: cluster_id.to_owned(),
            status,
        })
    }

    /// Publishes every event this node sends out (its own commits, and what it applied from the
    /// log or the bus: a repeat within JetStream's duplicate window is dropped by its id, and
    /// after NATS was down it makes sure the others hear of what they missed) until `stop`.
    pub async fn publish(self, mut committed: broadcast::Receiver<Arc<Event>>, stop: CancellationToken) {
        // The waits for acknowledgements, each at most `PUBLISH_WAIT`, ended before this returns.
        let acknowledgements = tokio_util::task::TaskTracker::new();
        loop {
            let event = tokio::select! {
                () = stop.cancelled() => break,
                received = committed.recv() => match received {
                    Ok(event) => event,
                    // The others read what this node skipped from the log.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            };
            if !self.status.connected.load(Ordering::Relaxed) {
                self.status.publish_failures.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let Ok(payload) = serde_json::to_vec(event.as_ref()) else { continue };
            let message = jetstream::message::PublishMessage::build()
                .payload(payload.into())
                .message_id(event.seq().to_string())
                .header(CLUSTER_ID_HEADER, self.cluster_id.as_str());
            let sent =
                tokio::time::timeout(PUBLISH_WAIT, self.jetstream.send_publish(self.subject.clone(), message)).await;
            match sent {
                Ok(Ok(acknowledgement)) => {
                    // Waited for apart, so that publishes follow each other without a round trip.
                    let status = self.status.clone();
                    acknowledgements.spawn(async move {
                        match tokio::time::timeout(PUBLISH_WAIT, acknowledgement).await {
                            Ok(Ok(_)) => status.published.fetch_add(1, Ordering::Relaxed),
                            _ => status.publish_failures.fetch_add(1, Ordering::Relaxed),
                        };
                    });
                }
                Ok(Err(_)) | Err(_) => {
                    self.status.publish_failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        acknowledgements.close();
        acknowledgements.wait().await;
    }

    /// Follows the cluster's stream from now on, handing each event to `offer`, until `stop`.
    /// A broken consumer (NATS restarted, the stream gone) is set up again.
    pub async fn follow(self, offer: impl Fn(Event) + Send + Sync + 'static, stop: CancellationToken) {
        while !stop.is_cancelled() {
            if let Err(error) = self.follow_once(&offer, &stop).await {
                tracing::warn!(%error, "the cluster bus is down; following the log until it is back");
            }
            self.status.following.store(false, Ordering::Relaxed);
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(RETRY) => {}
            }
        }
    }

    async fn follow_once(
        &self,
        offer: &(impl Fn(Event) + Send + Sync),
        stop: &CancellationToken,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let stream = self
            .jetstream
            .get_or_create_stream(jetstream::stream::Config {
                name: self.stream.clone(),
                subjects: vec![self.subject.clone()],
                storage: StorageType::File,
                max_age: KEEP,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await?;
        let consumer = stream
            .create_consumer(jetstream::consumer::push::OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                deliver_policy: DeliverPolicy::New,
                ..Default::default()
            })
            .await?;
        let mut messages = consumer.messages().await?;
        self.status.following.store(true, Ordering::Relaxed);
        loop {
            let message = tokio::select! {
                () = stop.cancelled() => return Ok(()),
                message = messages.next() => message,
            };
            let Some(message) = message else { return Err("the consumer ended".into()) };
            let message = message?;
            self.status.received.fetch_add(1, Ordering::Relaxed);
            let from = message.headers.as_ref().and_then(|headers| headers.get(CLUSTER_ID_HEADER));
            if from.map(|id| id.as_str()) != Some(self.cluster_id.as_str()) {
                tracing::warn!(subject = %self.subject, "a message on the cluster bus is from another cluster's store; ignored");
                continue;
            }
            match serde_json::from_slice::<Event>(&message.payload) {
                Ok(event) => offer(event),
                Err(error) => tracing::warn!(%error, "a message on the cluster bus is not an event; ignored"),
            }
        }
    }
}
