//! The hub: who is subscribed to what, and the fan-out of each committed event to them.
//!
//! Subscribers are indexed by the regions they asked for ([`AudienceIndex`]). An event on
//! region X goes to the subscribers of X, of X's ancestors and of X's descendants, and to those
//! with no region filter: a few map lookups per event instead of a test of every subscriber.
//!
//! The hub follows the committed events through an [`EventSource`]; each event's frame is made
//! once, in the [`FrameCache`] that subscribers catching up from the log read too; their reads
//! of the log are shared too ([`CatchUpReads`]).
//!
//! The hub never waits on a subscriber. A stream that waits with nothing to write has the hub
//! write to its socket itself, without waiting ([`crate::tap`]); any other has a bounded queue,
//! and one whose queue is full is cut off (its queue closes after what it holds; it resumes by
//! its last id).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tokio::sync::mpsc;
use tryvoha_core::{Audience, AudienceIndex, RegionRegistry, Seq};
use tryvoha_follow::{EventSource, Follow, FollowError};

use crate::catch_up::CatchUpReads;
use crate::filter::Filter;
use crate::frame::Frame;
use crate::frame_cache::{FRAME_CACHE_EVENTS, FrameCache};
use crate::metrics::Metrics;
use crate::signer::Signer;
use crate::tap::{Outlet, Tap};

mod audiences;
mod publish;

/// The most events fanned out together ([`Hub::publish_all`]): what one write to a parked
/// stream carries at most (a slice each).
pub const BATCH_EVENTS: usize = 64;

/// The fewest subscribers worth a fan-out thread of their own ([`Hub::publish_all`]).
const SUBSCRIBERS_PER_THREAD: usize = 1024;

/// How long the fan-out waits before following again after the log could not be read.
const LOG_RETRY: Duration = Duration::from_secs(1);

pub struct Hub {
    registry: Arc<RegionRegistry>,
    metrics: Arc<Metrics>,
    queue_capacity: usize,
    frames: FrameCache,
    catch_up_reads: CatchUpReads,
    // A std mutex: it is held to work out a batch's audience, or for an insert or a removal,
    // never across an await, and never while a socket is written.
    state: Mutex<HubState>,
    /// True while the fan-out task runs (see [`Hub::run`]).
    fanning_out: AtomicBool,
    /// Set by [`Hub::close`]: no subscriber is kept or taken any more.
    closed: AtomicBool,
    /// How many threads a large fan-out writes from: one per core.
    fan_out_threads: usize,
}

struct HubState {
    next_id: u64,
    /// Every event after this one is still to be published: queued for whoever subscribes now.
    /// (The hub may be ahead of the book, having read the log itself, or behind it.)
    published_through: Seq,
    subscribers: HashMap<u64, Subscriber>,
    audience: AudienceIndex<u64>,
    /// One copy of each distinct filter and how many subscribers have it: a fan-out to
    /// thousands of subscribers with the same filter reads the same memory for each, not a
    /// copy of its own that is out of the cache.
    filters: HashMap<Arc<Filter>, usize>,
}

struct Subscriber {
    filter: Arc<Filter>,
    tap: Arc<Tap>,
}

/// A registration with the hub; dropping it unsubscribes.
pub struct Subscription {
    pub(crate) receiver: mpsc::Receiver<Arc<Frame>>,
    /// Where the hub puts the frames: the queue, or the socket while the stream is parked.
    pub(crate) tap: Arc<Tap>,
    /// Where the live queue starts: every event after it reaches the queue (if it matches).
    pub(crate) queued_after: Seq,
    id: u64,
    hub: Arc<Hub>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.remove(self.id);
    }
}

impl Hub {
    pub fn new(registry: Arc<RegionRegistry>, metrics: Arc<Metrics>, queue_capacity: usize) -> Arc<Hub> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Hub::with_fan_out_threads(registry, metrics, queue_capacity, threads)
    }

    /// [`Hub::new`] with a large fan-out written from `fan_out_threads` threads.
    pub(crate) fn with_fan_out_threads(
        registry: Arc<RegionRegistry>,
        metrics: Arc<Metrics>,
        queue_capacity: usize,
        fan_out_threads: usize,
    ) -> Arc<Hub> {
        // Which regions hear an event on which, worked out once for the whole registry.
        let audience = Arc::new(Audience::new(&registry));
        let state = HubState {
            next_id: 0,
            published_through: 0,
            subscribers: HashMap::new(),
            audience: AudienceIndex::new(audience),
            filters: HashMap::new(),
        };
        let frames = FrameCache::counting(FRAME_CACHE_EVENTS, metrics.deliveries.clone());
        let catch_up_reads = CatchUpReads::new(metrics.clone());
        Arc::new(Hub {
            registry,
            metrics,
            queue_capacity,
            frames,
            catch_up_reads,
            state: Mutex::new(state),
            fanning_out: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            fan_out_threads,
        })
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn registry(&self) -> &Arc<RegionRegistry> {
        &self.registry
    }

    /// The frames of the newest events, made by the fan-out or by whoever read them first.
    pub fn frames(&self) -> &FrameCache {
        &self.frames
    }

    /// The log reads of subscribers catching up, shared by those that resume from one point.
    pub fn catch_up_reads(&self) -> &CatchUpReads {
        &self.catch_up_reads
    }

    /// Registers a subscriber; live frames queue for it from this moment. On a closed hub the
    /// subscription is closed at once (the stream ends after what it read from the log).
    pub fn subscribe(self: &Arc<Hub>, filter: Filter) -> Subscription {
        let (sender, receiver) = mpsc::channel(self.queue_capacity);
        let mut state = self.lock();
        // Checked under the lock that `close` cuts everyone under: no subscriber slips between.
        let queued_after = state.published_through;
        if self.closed.load(Ordering::Acquire) {
            let tap = Arc::new(Tap::new(None));
            return Subscription { receiver, tap, queued_after, id: 0, hub: self.clone() };
        }
        state.next_id += 1;
        let id = state.next_id;
        let tap = Arc::new(Tap::new(Some(sender)));
        state.audience.insert(id, &filter.regions);
        let filter = state.shared(filter);
        state.subscribers.insert(id, Subscriber { filter, tap: tap.clone() });
        Subscription { receiver, tap, queued_after, id, hub: self.clone() }
    }

    pub fn subscriber_count(&self) -> usize {
        self.lock().subscribers.len()
    }

    /// True while the fan-out ([`Hub::run`]) runs: committed events reach the subscribers.
    pub fn is_fanning_out(&self) -> bool {
        self.fanning_out.load(Ordering::Acquire)
    }

    /// Cuts every subscriber and refuses new ones from now on: the server is failing, and its
    /// clients should reconnect elsewhere rather than hear heartbeats with no events.
    pub fn close(&self) {
        let (_, sockets) = {
            let mut state = self.lock();
            self.closed.store(true, Ordering::Release);
            state.forget_everyone()
        };
        drop(sockets);
    }

    /// Fans committed events out until the source stops; the server owns this task and watches
    /// it. The hub counts as fanning out from this call until the returned future ends, for any
    /// reason (the source closed, a panic, the task dropped or aborted): then every subscriber
    /// is cut off at once, never left hearing heartbeats from a hub that is gone.
    pub fn run(
        self: Arc<Hub>,
        source: Arc<dyn EventSource>,
        signer: Arc<Signer>,
    ) -> impl Future<Output = ()> + Send + 'static {
        self.fanning_out.store(true, Ordering::Release);
        let stopped = FanOutStops(self.clone());
        // Following starts here, not at the first poll: nothing committed after this call is
        // missed however late the task first runs.
        let after = source.head();
        let follow = source.follow(after);
        {
            // Nothing up to `after` will be published: a subscriber reads it from the log.
            let mut state = self.lock();
            state.published_through = state.published_through.max(after);
        }
        async move {
            let _stopped = stopped;
            self.fan_out(source, follow, after, signer).await
        }
    }

    async fn fan_out(&self, source: Arc<dyn EventSource>, mut follow: Follow, mut after: Seq, signer: Arc<Signer>) {
        // What the follow yielded after a batch's last event that is not an event.
        let mut held = None;
        loop {
            let next = match held.take() {
                Some(next) => next,
                None => follow.next().await,
            };
            match next {
                Some(Ok(event)) => {
                    // What was committed meanwhile goes out with it: in a burst, each
                    // subscriber gets every event the fan-out has in one write.
                    let mut events = vec![event];
                    while events.len() < self.batch_limit() {
                        match follow.next().now_or_never() {
                            Some(Some(Ok(event))) => events.push(event),
                            Some(other) => {
                                held = Some(other);
                                break;
                            }
                            None => break,
                        }
                    }
                    after = events.last().map_or(after, |event| event.seq());
                    let frames: Vec<Arc<Frame>> =
                        events.iter().map(|event| self.frames.frame(event, &signer)).collect();
                    // Thousands of system calls: on a runtime of several threads, its other
                    // tasks move to another thread meanwhile, rather than wait behind them.
                    writing_sockets(|| self.publish_all(&events, &frames));
                }
                Some(Err(FollowError::Lagged { missed, .. })) => {
                    // The hub cannot tell which subscribers the missed events were for, so it
                    // cuts everyone: each resumes from the log by its last id. Nobody skips; the
                    // hub itself goes on from the log after the last event it fanned out.
                    let cut = self.cut_everyone();
                    self.metrics.hub_lagged(cut as u64);
                    tracing::warn!(missed, cut, "the hub fell behind the log; all subscribers resume from the log");
                    follow = source.follow(after);
                }
                Some(Err(error)) => {
                    // Subscribers wait (their queues just stay quiet); the hub reads the log
                    // again from where it was, so it still misses nothing.
                    tracing::warn!(error = %error, after, "the hub cannot read the log; following again shortly");
                    tokio::time::sleep(LOG_RETRY).await;
                    follow = source.follow(after);
                }
                None => return,
            }
        }
    }

    fn cut_everyone(&self) -> usize {
        // Letting them go closes every queue after what it holds.
        let (count, sockets) = self.lock().forget_everyone();
        drop(sockets);
        count
    }

    fn remove(&self, id: u64) {
        let socket = self.lock().forget(id);
        drop(socket);
    }

    /// A batch takes no more events than a queue can hold: a subscriber that is not parked
    /// gets all of its share queued at once, and must not be cut off for that alone.
    fn batch_limit(&self) -> usize {
        BATCH_EVENTS.min(self.queue_capacity)
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        // Every critical section leaves the maps consistent, so a poisoned lock is still sound.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs `write`, which blocks its thread for a while, so that a multi-thread runtime moves the
/// thread's other tasks elsewhere meanwhile (`block_in_place`); elsewhere (a single-thread
/// runtime, as in tests) it simply runs.
fn writing_sockets(write: impl FnOnce()) {
    match tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(write),
        _ => write(),
    }
}

/// Dropped when the fan-out future ends, however it ends.
struct FanOutStops(Arc<Hub>);

impl Drop for FanOutStops {
    fn drop(&mut self) {
        self.0.fanning_out.store(false, Ordering::Release);
        self.0.close();
    }
}

impl HubState {
    /// Lets subscriber `id` go; returns its socket, for the caller to drop outside the lock.
    fn forget(&mut self, id: u64) -> Option<Arc<dyn Outlet>> {
        let subscriber = self.subscribers.remove(&id)?;
        self.audience.remove(id, &subscriber.filter.regions);
        // Counted, not inferred from the `Arc`'s count: a fan-out in progress holds copies too.
        if let Some(subscribers) = self.filters.get_mut(&subscriber.filter) {
            *subscribers -= 1;
            if *subscribers == 0 {
                self.filters.remove(&subscriber.filter);
            }
        }
        subscriber.tap.close()
    }

    /// The shared copy of `filter` ([`HubState::filters`]), for one more subscriber.
    fn shared(&mut self, filter: Filter) -> Arc<Filter> {
        let shared = match self.filters.get_key_value(&filter) {
            Some((shared, _)) => shared.clone(),
            None => Arc::new(filter),
        };
        *self.filters.entry(shared.clone()).or_insert(0) += 1;
        shared
    }

    /// Lets every subscriber go; returns how many there were and their sockets.
    fn forget_everyone(&mut self) -> (usize, Vec<Arc<dyn Outlet>>) {
        let ids: Vec<u64> = self.subscribers.keys().copied().collect();
        (ids.len(), ids.into_iter().filter_map(|id| self.forget(id)).collect())
    }
}

#[cfg(test)]
mod tests;
