//! The push sender: a follower of the log with a persisted cursor (`push`). For each event, in
//! sequence order, one message to every subscription that hears about it (its regions, their
//! ancestors and descendants, as streams match), many at once; the cursor passes the event once
//! every push service accepted its message, said the subscription is gone (pruned), or could
//! not take it within the message's lifetime.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::Semaphore;
use tryvoha_core::AlertEvent;
use tryvoha_deliveries::Channel;
use tryvoha_follow::{CursorKeeper, EventSource, FollowError};
use tryvoha_live::{Filter, Frame, Hub, Signer};
use tryvoha_store::PushSubscription;
use tryvoha_webhooks::TargetPolicy;
use tryvoha_webhooks::target::CheckedResolver;

use crate::message::Message;
use crate::service::Subscriptions;
use crate::vapid::VapidKey;

pub const CONSUMER: &str = "push";
/// Requests in flight at once, over all push services.
const IN_FLIGHT: usize = 256;
/// Requests in flight at once to one push service (one origin).
const PER_SERVICE: usize = 128;
/// How many times one message is tried against a push service that answers 429 or 5xx.
const ATTEMPTS: u32 = 4;
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Counts for `/metrics`.
#[derive(Default)]
pub struct PushStatus {
    pub sent: AtomicU64,
    pub accepted: AtomicU64,
    pub failed: AtomicU64,
    pub pruned: AtomicU64,
}

impl PushStatus {
    pub fn render_metrics(&self, subscriptions: usize) -> String {
        let mut out = format!(
            "# HELP tryvoha_push_subscriptions Web Push subscriptions.\n# TYPE tryvoha_push_subscriptions gauge\n\
             tryvoha_push_subscriptions {subscriptions}\n\
             # HELP tryvoha_push_requests_total Web Push requests by outcome.\n# TYPE tryvoha_push_requests_total counter\n"
        );
        for (outcome, count) in
            [("sent", &self.sent), ("accepted", &self.accepted), ("failed", &self.failed), ("pruned", &self.pruned)]
        {
            out.push_str(&format!("tryvoha_push_requests_total{{outcome=\"{outcome}\"}} {}\n", count.load(Relaxed)));
        }
        out
    }
}

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

/// The two clients: no redirects, no proxy, bounded times.
pub fn clients() -> Result<(reqwest::Client, reqwest::Client), String> {
    tryvoha_webhooks::ensure_crypto_provider();
    let builder = || {
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(PER_SERVICE)
    };
    let public = builder()
        .dns_resolver(Arc::new(CheckedResolver { policy: Arc::new(TargetPolicy::default()), allow_public: true }))
        .build()
        .map_err(|error| error.to_string())?;
    Ok((public, builder().build().map_err(|error| error.to_string())?))
}

impl Sender {
    pub async fn run(self, stop: impl Future<Output = ()> + Send) {
        let mut stop = std::pin::pin!(stop);
        let mut after = loop {
            tokio::select! {
                () = stop.as_mut() => return,
                started = self.cursors.start(CONSUMER, self.source.head()) => match started {
                    Ok(after) => break after,
                    Err(error) => {
                        tracing::warn!(%error, "push: cannot read the cursor; trying again");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
            }
        };
        let services: std::sync::Mutex<HashMap<String, Arc<Semaphore>>> = Default::default();
        let mut follow = self.source.follow(after);
        loop {
            let next = tokio::select! {
                () = stop.as_mut() => return,
                next = follow.next() => next,
            };
            match next {
                Some(Ok(event)) => {
                    tokio::select! {
                        () = stop.as_mut() => return,
                        () = self.send_event(&event, &services) => {}
                    }
                    after = event.seq;
                    self.cursors.acknowledge(CONSUMER, after);
                }
                Some(Err(error)) => {
                    if matches!(error, FollowError::Log { .. }) {
                        tracing::warn!(%error, "push: cannot read the log; following again shortly");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    follow = self.source.follow(after);
                }
                None => return,
            }
        }
    }

    async fn send_event(&self, event: &Arc<AlertEvent>, services: &std::sync::Mutex<HashMap<String, Arc<Semaphore>>>) {
        let registry = self.hub.registry();
        let matching: Vec<Arc<PushSubscription>> = {
            let index = self.subscriptions.index.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            index
                .by_region
                .matching(event.alert.region_id)
                .into_iter()
                .filter_map(|id| index.by_id.get(&id).cloned())
                .filter(|s| {
                    let filter =
                        Filter::new(s.filter.regions.clone(), s.filter.kinds.clone(), s.filter.statuses.clone());
                    filter.matches(&event.alert, registry)
                })
                .collect()
        };
        if matching.is_empty() {
            return;
        }
        let frame = self.hub.frames().frame(event, &self.signer);
        let message = Message::for_event(event, &frame.json, &self.signer);
        let deadline = Instant::now() + message.ttl;
        futures_util::stream::iter(matching)
            .map(|subscription| {
                let service = origin(&subscription.endpoint);
                let limit = services
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(service)
                    .or_insert_with(|| Arc::new(Semaphore::new(PER_SERVICE)))
                    .clone();
                let (message, frame) = (&message, &frame);
                async move {
                    let _turn = limit.acquire_owned().await;
                    self.deliver(&subscription, message, frame, deadline).await;
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect::<Vec<()>>()
            .await;
    }

    /// One message to one subscription, retried on 429 and 5xx (after the service's
    /// `Retry-After`) while the message is still worth delivering.
    async fn deliver(&self, subscription: &PushSubscription, message: &Message, frame: &Arc<Frame>, deadline: Instant) {
        let client = if self.subscriptions.policy().allowed_by_prefix(&subscription.endpoint) {
            &self.allowed_client
        } else {
            &self.public_client
        };
        for attempt in 1..=ATTEMPTS {
            let request = match message.request(subscription, self.vapid.pair(), &self.contact) {
                Ok(request) => request,
                Err(error) => {
                    tracing::warn!(%error, subscription = subscription.id, "push: cannot build the request");
                    self.status.failed.fetch_add(1, Relaxed);
                    return;
                }
            };
            frame.attempted(Channel::WebPush);
            self.status.sent.fetch_add(1, Relaxed);
            let (parts, body) = request.into_parts();
            let sent =
                client.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await;
            let wait = match sent {
                Ok(answer) if answer.status().is_success() => {
                    frame.delivered(Channel::WebPush);
                    self.status.accepted.fetch_add(1, Relaxed);
                    return;
                }
                Ok(answer) if matches!(answer.status().as_u16(), 404 | 410) => {
                    frame.failed(Channel::WebPush);
                    self.status.pruned.fetch_add(1, Relaxed);
                    if let Err(error) = self.subscriptions.prune(subscription).await {
                        tracing::warn!(%error, subscription = subscription.id, "push: cannot prune");
                    }
                    return;
                }
                Ok(answer) if answer.status().as_u16() == 429 || answer.status().is_server_error() => {
                    let asked = answer
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    asked
                        .unwrap_or(Duration::from_secs(1 << attempt))
                        .clamp(Duration::from_millis(100), MAX_RETRY_AFTER)
                }
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
            if attempt == ATTEMPTS || Instant::now() + wait >= deadline {
                self.status.failed.fetch_add(1, Relaxed);
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// `scheme://host:port` of an endpoint: one push service.
fn origin(endpoint: &str) -> String {
    endpoint.split('/').take(3).collect::<Vec<_>>().join("/")
}
