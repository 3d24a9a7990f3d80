//! The push sender: a follower of the log with a persisted cursor (`push`). For each event, one
//! message to every subscription that hears about it (its regions, their ancestors and
//! descendants, as streams match), grouped by push service: each service gets its events in
//! sequence order, many subscriptions at once, and services do not wait for one another. The
//! cursor passes an event once every push service accepted its message, said the subscription
//! is gone (pruned), or could not take it within the message's lifetime.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use futures_util::StreamExt;
use time::OffsetDateTime;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tryvoha_core::{Event, Seq};
use tryvoha_deliveries::Channel;
use tryvoha_follow::{CursorKeeper, EventSource, FollowError};
use tryvoha_live::{Frame, Hub, Signer};
use tryvoha_store::PushSubscription;

use crate::message::Message;
pub use crate::reach::clients;
use crate::reach::public_literal;
use crate::service::Subscriptions;
pub use crate::status::PushStatus;
use crate::vapid::VapidKey;

pub const CONSUMER: &str = "push";
/// Requests in flight at once to one push service (one origin); services run side by side.
pub const PER_SERVICE: usize = 128;
/// How often what push services accepted is written to the store (see `progress`).
const SAVE_EVERY: Duration = Duration::from_millis(500);
/// How long a request in flight when the sender stops may take to be answered (and recorded).
const STOP_GRACE: Duration = Duration::from_secs(2);
/// How many times one message is tried against a push service that answers 429 or 5xx.
const ATTEMPTS: u32 = 4;

/// What every request of one event to one push service shares.
struct Job {
    seq: Seq,
    message: Message,
    frame: Arc<Frame>,
    /// The VAPID header: one signature per service and event.
    authorization: http::HeaderValue,
}

#[derive(Clone)]
pub struct Sender {
    pub subscriptions: Arc<Subscriptions>,
    pub source: Arc<dyn EventSource>,
    pub hub: Arc<Hub>,
    pub signer: Arc<Signer>,
    pub vapid: Arc<VapidKey>,
    /// The VAPID `sub` claim: `mailto:` or `https:`, whom a push service may contact.
    pub contact: String,
    pub cursors: Arc<CursorKeeper>,
    pub status: Arc<PushStatus>,
    /// Public addresses only (the resolver refuses the rest at connection).
    pub public_client: reqwest::Client,
    /// For endpoints under a prefix the operator allows (a local test push service).
    pub allowed_client: reqwest::Client,
}

impl Sender {
    /// Sends until `stop` resolves. Each event's sends are grouped by push service: one batch
    /// per service, and each service's batches run one after the other (its subscribers get
    /// events in order), while services run side by side: a slow or failing service delays
    /// only its own subscribers. The cursor passes an event once every batch of it, and of
    /// every event before it, has settled.
    pub async fn run(self, stop: impl Future<Output = ()> + Send + 'static) {
        let stopping = CancellationToken::new();
        let cancel_on_stop = {
            let stopping = stopping.clone();
            async move {
                stop.await;
                stopping.cancel();
            }
        };
        tokio::pin!(cancel_on_stop);
        let this = Arc::new(self);
        let mut after = loop {
            tokio::select! {
                () = &mut cancel_on_stop => return,
                started = this.cursors.start(CONSUMER, this.source.head()) => match started {
                    Ok(after) => break after,
                    Err(error) => {
                        tracing::warn!(%error, "push: cannot read the cursor; trying again");
                        if sleep_or_stop(&stopping, Duration::from_secs(1)).await {
                            return;
                        }
                    }
                },
            }
        };
        let tracker = TaskTracker::new();
        tracker.spawn({
            let (this, stopping) = (this.clone(), stopping.clone());
            async move {
                while !sleep_or_stop(&stopping, SAVE_EVERY).await {
                    if let Err(error) = this.subscriptions.save_progress().await {
                        tracing::warn!(%error, "push: cannot record what was delivered; trying again");
                    }
                }
            }
        });
        let (settled_tx, mut settled) = mpsc::unbounded_channel::<Seq>();
        // Per event: how many batches are still out; the cursor follows the contiguous settled.
        let mut outstanding: BTreeMap<Seq, usize> = BTreeMap::new();
        let mut last_batch: HashMap<String, JoinHandle<()>> = HashMap::new();
        let mut follow = this.source.follow(after);
        let mut followed = after;
        loop {
            tokio::select! {
                () = &mut cancel_on_stop => break,
                Some(seq) = settled.recv() => {
                    if let Some(count) = outstanding.get_mut(&seq) {
                        *count -= 1;
                        if *count == 0 {
                            outstanding.remove(&seq);
                        }
                    }
                    let done = outstanding.keys().next().map_or(followed, |&oldest| oldest - 1);
                    if done > after {
                        after = done;
                        this.cursors.acknowledge(CONSUMER, after);
                    }
                }
                next = follow.next() => match next {
                    Some(Ok(event)) => {
                        let batches = this.batches(&event);
                        followed = event.seq();
                        if !batches.is_empty() {
                            outstanding.insert(event.seq(), batches.len());
                        }
                        for (service, subscriptions) in batches {
                            let previous = last_batch.remove(&service);
                            let (this, event, settled_tx, stopping) = (this.clone(), event.clone(), settled_tx.clone(), stopping.clone());
                            let batch = tracker.spawn(async move {
                                if let Some(previous) = previous {
                                    let _ = previous.await;
                                }
                                // A later event must not start for a service whose earlier one
                                // was cut short: its progress would pass what was not sent.
                                if stopping.is_cancelled() {
                                    return;
                                }
                                this.send_batch(&event, subscriptions, &stopping).await;
                                // A batch cut short by the stop has not settled: the cursor
                                // stays, and the progress spares what was accepted.
                                if !stopping.is_cancelled() {
                                    let _ = settled_tx.send(event.seq());
                                }
                            });
                            last_batch.insert(service, batch);
                        }
                        last_batch.retain(|_, batch| !batch.is_finished());
                        if outstanding.is_empty() && followed > after {
                            after = followed;
                            this.cursors.acknowledge(CONSUMER, after);
                        }
                    }
                    Some(Err(error)) => {
                        if matches!(error, FollowError::Log { .. }) {
                            tracing::warn!(%error, "push: cannot read the log; following again shortly");
                            if sleep_or_stop(&stopping, Duration::from_secs(1)).await {
                                break;
                            }
                        }
                        follow = this.source.follow(followed);
                    }
                    None => break,
                },
            }
        }
        stopping.cancel();
        tracker.close();
        tracker.wait().await;
        if let Err(error) = this.subscriptions.save_progress().await {
            tracing::warn!(%error, "push: cannot record what was delivered; it may be sent again after the restart");
        }
    }

    /// The subscriptions `event` concerns, by push service: an alert's event only (a push is
    /// a warning). The index already answers only those whose regions hear the event's
    /// region; kind and status remain.
    fn batches(&self, event: &Event) -> HashMap<String, Vec<Arc<PushSubscription>>> {
        let Some(event) = event.as_alert() else { return HashMap::new() };
        let index = self.subscriptions.index.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let progress = self.subscriptions.progress.view();
        let mut batches: HashMap<String, Vec<Arc<PushSubscription>>> = HashMap::new();
        for id in index.by_region.matching(event.alert.region_id) {
            let Some(subscription) = index.by_id.get(&id) else { continue };
            let filter = &subscription.filter;
            let kind_ok = filter.kinds.is_empty() || filter.kinds.contains(&event.alert.kind);
            let status_ok = filter.statuses.is_empty() || filter.statuses.contains(&event.alert.status);
            if kind_ok && status_ok && !progress.has(id, event.seq) {
                batches.entry(origin(&subscription.endpoint)).or_default().push(subscription.clone());
            }
        }
        batches
    }

    async fn send_batch(
        self: &Arc<Self>,
        event: &Event,
        subscriptions: Vec<Arc<PushSubscription>>,
        stopping: &CancellationToken,
    ) {
        let Some(alert_event) = event.as_alert() else { return };
        let frame = self.hub.frames().frame(event, &self.signer);
        let message = Message::for_event(alert_event, &frame.json, &self.signer);
        let Some(first) = subscriptions.first() else { return };
        let count = subscriptions.len() as u64;
        let authorization =
            match message.authorization(&first.endpoint, self.vapid.pair(), &self.contact, OffsetDateTime::now_utc()) {
                Ok(Some(authorization)) => authorization,
                Ok(None) => {
                    self.status.expired.fetch_add(count, Relaxed);
                    (0..count).for_each(|_| frame.expired(Channel::WebPush));
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, endpoint = %origin(&first.endpoint), "push: cannot sign for this service");
                    self.status.failed.fetch_add(count, Relaxed);
                    (0..count).for_each(|_| frame.failed(Channel::WebPush));
                    return;
                }
            };
        let job = Arc::new(Job { seq: event.seq(), message, frame, authorization });
        // A task per request, so that encrypting (most of a request's CPU) runs on every core;
        // at most PER_SERVICE at once. Once stopping, no new request starts; those in flight
        // get `STOP_GRACE` to be answered.
        let permits = Arc::new(Semaphore::new(PER_SERVICE));
        let requests = TaskTracker::new();
        for subscription in subscriptions {
            let permit = tokio::select! {
                biased;
                () = stopping.cancelled() => break,
                permit = permits.clone().acquire_owned() => permit,
            };
            let Ok(permit) = permit else { break };
            let (this, job, stopping) = (self.clone(), job.clone(), stopping.clone());
            requests.spawn(async move {
                this.deliver(&job, &subscription, &stopping).await;
                drop(permit);
            });
        }
        requests.close();
        requests.wait().await;
    }

    /// One message to one subscription, retried on 429 and 5xx (after the service's
    /// `Retry-After`) while the message is still worth delivering.
    async fn deliver(&self, job: &Job, subscription: &PushSubscription, stopping: &CancellationToken) {
        let (message, frame) = (&job.message, &job.frame);
        if stopping.is_cancelled() {
            return;
        }
        let allowed = self.subscriptions.policy().allowed(&subscription.endpoint);
        if !allowed && let Err(refusal) = public_literal(&subscription.endpoint) {
            tracing::debug!(%refusal, subscription = subscription.id, "push: not sent");
            self.status.failed.fetch_add(1, Relaxed);
            frame.failed(Channel::WebPush);
            return;
        }
        let client = if allowed { &self.allowed_client } else { &self.public_client };
        for attempt in 1..=ATTEMPTS {
            let request = match message.request_with(subscription, &job.authorization, OffsetDateTime::now_utc()) {
                Ok(Some(request)) => request,
                Ok(None) => {
                    // Past its life: a late alert misleads more than a missing one.
                    self.status.expired.fetch_add(1, Relaxed);
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, subscription = subscription.id, "push: cannot build the request");
                    self.status.failed.fetch_add(1, Relaxed);
                    return;
                }
            };
            frame.attempted(Channel::WebPush);
            self.status.sent.fetch_add(1, Relaxed);
            let (parts, body) = request.into_parts();
            let sending = client.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send();
            let sent = tokio::select! {
                sent = sending => sent,
                () = async {
                    stopping.cancelled().await;
                    tokio::time::sleep(STOP_GRACE).await;
                } => return,
            };
            let wait = match sent {
                Ok(answer) if answer.status().is_success() => {
                    self.subscriptions.progress.accepted(subscription.id, job.seq);
                    frame.delivered(Channel::WebPush);
                    self.status.accepted.fetch_add(1, Relaxed);
                    return;
                }
                Ok(answer) if matches!(answer.status().as_u16(), 404 | 410) => {
                    frame.pruned(Channel::WebPush);
                    self.status.pruned.fetch_add(1, Relaxed);
                    if let Err(error) = self.subscriptions.prune(subscription).await {
                        tracing::warn!(%error, subscription = subscription.id, "push: cannot prune");
                    }
                    return;
                }
                Ok(answer) if answer.status().as_u16() == 429 || answer.status().is_server_error() => answer
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(Duration::from_secs(1 << attempt))
                    .max(Duration::from_millis(100)),
                Ok(answer) => {
                    tracing::debug!(status = %answer.status(), subscription = subscription.id, "push: refused");
                    frame.failed(Channel::WebPush);
                    self.status.failed.fetch_add(1, Relaxed);
                    return;
                }
                Err(error) => {
                    tracing::debug!(%error, subscription = subscription.id, "push: no answer");
                    Duration::from_secs(1 << attempt)
                }
            };
            frame.failed(Channel::WebPush);
            let due = OffsetDateTime::now_utc() + wait;
            if attempt == ATTEMPTS || due >= message.expires_at {
                self.status.failed.fetch_add(1, Relaxed);
                return;
            }
            if sleep_or_stop(stopping, wait).await {
                return;
            }
        }
    }
}

/// True when `stopping` was cancelled before `delay` passed.
async fn sleep_or_stop(stopping: &CancellationToken, delay: Duration) -> bool {
    tokio::select! {
        () = stopping.cancelled() => true,
        () = tokio::time::sleep(delay) => false,
    }
}

/// `scheme://host:port` of an endpoint: one push service.
fn origin(endpoint: &str) -> String {
    endpoint.split('/').take(3).collect::<Vec<_>>().join("/")
}
