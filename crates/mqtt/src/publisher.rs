//! The MQTT publisher: a follower of the durable log with a persisted cursor (`mqtt`).
//!
//! One connection at a time (a *session*). Each session first publishes every retained
//! document (status `online`, discovery configs, every region's state, the per-kind sensor
//! states, the oblast strings), then follows the log from the cursor: for each event, in
//! sequence order, its signed frame on `events`, and every retained document the event
//! changed. Everything is QoS 1; the cursor moves past an event only once the broker
//! acknowledged (PUBACK) every publish that event caused. A session that fails (the broker
//! went away) is dropped whole and a new one starts from the cursor: an event whose publishes
//! were not all acknowledged is published again (at least once, in order, never skipped).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use futures_util::StreamExt;
use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, Incoming, Outgoing, QoS};
use tokio::sync::mpsc;
use tryvoha_compat::IotVersion;
use tryvoha_compat::alerts_in_ua::by_oblast;
use tryvoha_core::{AlertBook, AlertKind, Audience, Event as LogEvent, RegionId, Seq};
use tryvoha_deliveries::Channel;
use tryvoha_follow::{CursorKeeper, EventSource, LogReader};
use tryvoha_live::{Hub, Signer};

use crate::acks::{Acks, Tag};
use crate::discovery;
use crate::options::{MqttSettings, client_options};
use crate::siren::Sirens;
use crate::status::MqttStatus;
use crate::topics::{KindStateMessage, RegionStateMessage, Topics};

/// The publisher's cursor in the store.
pub const CONSUMER: &str = "mqtt";
/// How many publishes may wait for their PUBACK before the publisher stops taking events.
const MAX_UNACKNOWLEDGED: usize = 2048;
/// How long to wait between failed connection attempts, doubling up to the maximum.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(1);
/// How long a new connection may take to be accepted (CONNACK).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait before reading a log that could not be read.
const LOG_RETRY: Duration = Duration::from_secs(1);

/// Whether the broker keeps a message for later subscribers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retain {
    Yes,
    No,
}

pub struct Publisher {
    pub settings: MqttSettings,
    pub source: Arc<dyn EventSource>,
    pub log: Arc<dyn LogReader>,
    /// The hub's frames: an event published here is the same signed frame the streams send.
    pub hub: Arc<Hub>,
    pub signer: Arc<Signer>,
    pub cursors: Arc<CursorKeeper>,
    pub status: Arc<MqttStatus>,
}

/// Why a session ended.
enum SessionEnd {
    Stopped,
    Failed(String),
}

impl Publisher {
    /// Publishes until `stop` resolves, reconnecting as needed. The cursor keeper is flushed by
    /// its owner; the acknowledged position is handed to it as acknowledgements arrive.
    pub async fn run(self, stop: impl Future<Output = ()> + Send) {
        let mut stop = std::pin::pin!(stop);
        let audience = Audience::new(self.hub.registry());
        let mut retry = RETRY_FIRST;
        loop {
            let after = match self.cursors.start(CONSUMER, self.source.head()).await {
                Ok(after) => after,
                Err(error) => {
                    tracing::warn!(%error, "mqtt: cannot read the cursor; trying again");
                    if wait_or_stop(&mut stop, RETRY_MAX).await {
                        return;
                    }
                    continue;
                }
            };
            let mut session = match Session::connect(&self, &audience, after).await {
                Ok(session) => session,
                Err(reason) => {
                    tracing::warn!(%reason, url = %self.settings.url, "mqtt: cannot connect; trying again");
                    if wait_or_stop(&mut stop, retry).await {
                        return;
                    }
                    retry = (retry * 2).min(RETRY_MAX);
                    continue;
                }
            };
            retry = RETRY_FIRST;
            self.status.connected.store(true, Relaxed);
            self.status.sessions.fetch_add(1, Relaxed);
            tracing::info!(after, url = %self.settings.url, "mqtt: connected; following the log");
            let end = session.serve(&self, &mut stop).await;
            self.status.connected.store(false, Relaxed);
            session.count_unacknowledged_as_failed();
            match end {
                SessionEnd::Stopped => {
                    session.say_offline().await;
                    return;
                }
                SessionEnd::Failed(reason) => {
                    tracing::warn!(%reason, "mqtt: connection lost; reconnecting and publishing again from the cursor");
                }
            }
        }
    }
}

/// True when `stop` resolved before `delay` passed.
async fn wait_or_stop(stop: &mut std::pin::Pin<&mut (impl Future<Output = ()> + Send)>, delay: Duration) -> bool {
    tokio::select! {
        () = stop.as_mut() => true,
        () = tokio::time::sleep(delay) => false,
    }
}

struct Session<'a> {
    client: AsyncClient,
    events: mpsc::UnboundedReceiver<Result<Event, ConnectionError>>,
    driver: tokio::task::JoinHandle<()>,
    topics: Topics,
    audience: &'a Audience,
    acks: Acks,
    /// What each siren was told in this session. A new session starts afresh: a command whose
    /// PUBACK was lost with the old one is published again with its event (its counter, the
    /// event's seq, lets a controller drop a duplicate).
    sirens: Sirens,
    /// The retained documents as last published in this session, by topic.
    retained: HashMap<String, Vec<u8>>,
    region_states: HashMap<RegionId, RegionStateMessage>,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl<'a> Session<'a> {
    async fn connect(publisher: &Publisher, audience: &'a Audience, after: Seq) -> Result<Session<'a>, String> {
        let topics = publisher.settings.topics();
        let options = client_options(&publisher.settings, &publisher.settings.client_id, Some(&topics))
            .map_err(|error| error.to_string())?;
        let (client, eventloop) = AsyncClient::new(options, 1024);
        let (tx, mut events) = mpsc::unbounded_channel();
        let driver = tokio::spawn(drive(eventloop, tx));
        tokio::time::timeout(CONNECT_TIMEOUT, async {
            while let Some(event) = events.recv().await {
                match event {
                    Ok(Event::Incoming(Incoming::ConnAck(_))) => return Ok(()),
                    Ok(_) => {}
                    Err(error) => return Err(error.to_string()),
                }
            }
            Err("the connection closed".to_owned())
        })
        .await
        .map_err(|_| "the broker did not answer in time".to_owned())??;
        let mut session = Session {
            client,
            events,
            driver,
            topics,
            audience,
            acks: Acks::after(after),
            sirens: Sirens::new(publisher.settings.sirens.clone(), publisher.settings.siren_command_ttl),
            retained: HashMap::new(),
            region_states: HashMap::new(),
        };
        session.open(publisher).await?;
        Ok(session)
    }

    /// Every retained document, as the book has it now: a subscriber (or a broker that lost its
    /// retained messages in a restart) has the whole state again.
    async fn open(&mut self, publisher: &Publisher) -> Result<(), String> {
        self.publish(self.topics.status(), b"online".to_vec(), Retain::Yes, Tag::opening()).await?;
        let book = publisher.log.book();
        let registry = book.registry().clone();
        for &region in &publisher.settings.ha_regions {
            let Some(region) = registry.get(region) else { continue };
            for &kind in AlertKind::ALL {
                let (topic, config) =
                    discovery::sensor(&publisher.settings.ha_discovery_prefix, &self.topics, region, kind);
                let body = serde_json::to_vec(&config).map_err(|error| error.to_string())?;
                self.publish(topic, body, Retain::Yes, Tag::opening()).await?;
            }
        }
        for region in registry.all() {
            self.publish_region(&book, region.id, None, &publisher.settings.ha_regions, None).await?;
        }
        self.publish_oblast_strings(&book, None).await
    }

    async fn serve(
        &mut self,
        publisher: &Publisher,
        stop: &mut std::pin::Pin<&mut (impl Future<Output = ()> + Send)>,
    ) -> SessionEnd {
        let mut follow = publisher.source.follow(self.acks.last_sent());
        loop {
            let room = self.acks.unacknowledged() < MAX_UNACKNOWLEDGED;
            tokio::select! {
                biased;
                () = stop.as_mut() => return SessionEnd::Stopped,
                event = self.events.recv() => match event {
                    Some(Ok(event)) => self.on_client_event(event, publisher),
                    Some(Err(error)) => return SessionEnd::Failed(error.to_string()),
                    None => return SessionEnd::Failed("the client stopped".into()),
                },
                next = follow.next(), if room => match next {
                    Some(Ok(event)) => {
                        if let Err(reason) = self.publish_event(&event, publisher).await {
                            return SessionEnd::Failed(reason);
                        }
                    }
                    Some(Err(error)) => {
                        // A lag is caught up from the log at once; a log that cannot be read
                        // is tried again after a pause, not in a tight loop.
                        if matches!(error, tryvoha_follow::FollowError::Log { .. }) {
                            tracing::warn!(%error, "mqtt: cannot read the log; following again shortly");
                            if wait_or_stop(stop, LOG_RETRY).await {
                                return SessionEnd::Stopped;
                            }
                        }
                        follow = publisher.source.follow(self.acks.last_sent());
                    }
                    None => return SessionEnd::Stopped,
                },
            }
        }
    }

    async fn publish_event(&mut self, event: &Arc<LogEvent>, publisher: &Publisher) -> Result<(), String> {
        let seq = event.seq();
        let frame = publisher.hub.frames().frame(event, &publisher.signer);
        let Some(event) = event.as_alert() else {
            // An incident's or a shelter's: on a topic of its own, and only what is public.
            let topic = match &**event {
                LogEvent::Shelter(changed) => {
                    Some((self.topics.shelter_status(changed.shelter.shelter_id), Retain::Yes))
                }
                incident if incident.is_public() => Some((self.topics.incidents(), Retain::No)),
                _ => None,
            };
            if let Some((topic, retain)) = topic {
                self.publish(topic, frame.json.to_vec(), retain, Tag::of(Some(seq))).await?;
            }
            self.acks.event_sent(seq);
            self.advance(publisher);
            return Ok(());
        };
        frame.attempted(Channel::Mqtt);
        self.publish(self.topics.events(), frame.json.to_vec(), Retain::No, Tag { seq: Some(seq), frame: Some(frame) })
            .await?;
        let book = publisher.log.book();
        for &region in self.audience.regions_hearing(event.alert.region_id) {
            self.publish_region(&book, region, Some(event.alert.kind), &publisher.settings.ha_regions, Some(seq))
                .await?;
        }
        self.publish_oblast_strings(&book, Some(seq)).await?;
        for command in self.sirens.commands(event, &book) {
            let topic = self.topics.siren_command(command.region_id);
            self.publish(topic, publisher.signer.sign_json(&command), Retain::Yes, Tag::of(Some(seq))).await?;
        }
        self.acks.event_sent(seq);
        self.advance(publisher);
        Ok(())
    }

    /// The region's state, and its per-kind sensors when it has any, where they changed. With
    /// `kind`, only that kind's sensor can have changed.
    async fn publish_region(
        &mut self,
        book: &AlertBook,
        region: RegionId,
        kind: Option<AlertKind>,
        ha_regions: &[RegionId],
        seq: Option<Seq>,
    ) -> Result<(), String> {
        let state = RegionStateMessage::of(book, region);
        if !self.region_states.get(&region).is_some_and(|last| last.same_state_as(&state)) {
            let body = serde_json::to_vec(&state).map_err(|error| error.to_string())?;
            self.publish(self.topics.region_state(region), body, Retain::Yes, Tag::of(seq)).await?;
            self.region_states.insert(region, state);
        }
        if ha_regions.contains(&region) {
            let kinds: Vec<AlertKind> = kind.map_or_else(|| AlertKind::ALL.to_vec(), |kind| vec![kind]);
            for kind in kinds {
                let body =
                    serde_json::to_vec(&KindStateMessage::of(book, region, kind)).map_err(|error| error.to_string())?;
                self.publish_if_changed(self.topics.region_kind(region, kind), body, seq).await?;
            }
        }
        Ok(())
    }

    async fn publish_oblast_strings(&mut self, book: &AlertBook, seq: Option<Seq>) -> Result<(), String> {
        for (number, version) in [(1, IotVersion::V1), (2, IotVersion::V2)] {
            let body = by_oblast(book, version).into_bytes();
            self.publish_if_changed(self.topics.iot_oblasts(number), body, seq).await?;
        }
        Ok(())
    }

    async fn publish_if_changed(&mut self, topic: String, body: Vec<u8>, seq: Option<Seq>) -> Result<(), String> {
        if self.retained.get(&topic) == Some(&body) {
            return Ok(());
        }
        self.retained.insert(topic.clone(), body.clone());
        self.publish(topic, body, Retain::Yes, Tag::of(seq)).await
    }

    async fn publish(&mut self, topic: String, body: Vec<u8>, retain: Retain, tag: Tag) -> Result<(), String> {
        self.acks.sending(tag);
        let retain = retain == Retain::Yes;
        self.client.publish(topic, QoS::AtLeastOnce, retain, body).await.map_err(|error| error.to_string())
    }

    fn on_client_event(&mut self, event: Event, publisher: &Publisher) {
        match event {
            // The client numbers publishes in the order they were handed to it.
            Event::Outgoing(Outgoing::Publish(pkid)) => {
                self.acks.numbered(pkid);
                publisher.status.published.fetch_add(1, Relaxed);
            }
            Event::Incoming(Incoming::PubAck(ack)) => {
                let Some(tag) = self.acks.acknowledged_packet(ack.pkid) else { return };
                if let Some(frame) = &tag.frame {
                    frame.delivered(Channel::Mqtt);
                }
                self.advance(publisher);
            }
            _ => {}
        }
    }

    /// Hands the keeper the last event all of whose publishes (and every earlier one's) the
    /// broker acknowledged.
    fn advance(&self, publisher: &Publisher) {
        let acknowledged = self.acks.acknowledged();
        publisher.cursors.acknowledge(CONSUMER, acknowledged);
        publisher.status.acknowledged.fetch_max(acknowledged, Relaxed);
    }

    fn count_unacknowledged_as_failed(&mut self) {
        for tag in self.acks.abandon() {
            if let Some(frame) = tag.frame {
                frame.failed(Channel::Mqtt);
            }
        }
    }

    /// A clean stop: the retained status says `offline` (the last will covers a crash).
    async fn say_offline(&mut self) {
        let _ = self.client.publish(self.topics.status(), QoS::AtLeastOnce, true, "offline").await;
        let _ = self.client.disconnect().await;
        // Give the client a moment to send both before the session is dropped.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(event)) = self.events.recv().await {
                if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                    return;
                }
            }
        })
        .await;
    }
}

/// Polls the client's event loop and hands every event to the session; the first error ends it
/// (the session is then dropped and a new connection made from the cursor).
async fn drive(mut eventloop: EventLoop, tx: mpsc::UnboundedSender<Result<Event, ConnectionError>>) {
    loop {
        let polled = eventloop.poll().await;
        let failed = polled.is_err();
        if tx.send(polled).is_err() || failed {
            return;
        }
    }
}
