//! Catch-up reads of the log, shared by the subscribers that resume from the same point.
//!
//! After a restart or a network blip, thousands of clients reconnect within a second with the
//! same `Last-Event-ID`. Each would read the same page of the log (one store read and one
//! blocking-pool thread apiece); here the first one reads it and the others wait for that read,
//! or take the page it left.
//!
//! A shared page may be older than the subscriber that takes it, so it is taken on its terms:
//! a full page is the same whenever it was read; a short one ended the log *when it was read*,
//! and ends a subscriber's catch-up only if it was read after the subscriber registered (then
//! every later event is in its queue) or reaches where that queue starts (see
//! [`Page::ends_catch_up_for`]). Otherwise the subscriber reads on from its end: a stale page
//! costs a read, never an event.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tryvoha_core::{Event, Seq};
use tryvoha_follow::{LogReader, ReadError};

use crate::metrics::Metrics;

/// How many resume points keep their page: a storm has one or a few.
const KEPT_PAGES: usize = 64;
/// How long a page is kept after its read began: a storm's reconnections come within seconds,
/// and a page kept longer would only hold memory (up to 500 events each).
const KEEP_FOR: Duration = Duration::from_secs(30);

/// Up to `limit` events after `after`, as the log held them when read.
#[derive(Debug)]
pub struct Page {
    pub after: Seq,
    pub limit: usize,
    pub events: Vec<Event>,
    /// Which read this was: they are numbered as they begin.
    read: u64,
}

/// Where a subscriber's live queue starts, as [`CatchUpReads::queue_start`] saw it when the
/// subscriber had just registered.
#[derive(Clone, Copy, Debug)]
pub struct QueueStart {
    /// Every event after this one is in the queue.
    pub after: Seq,
    /// The number of the first read that began after the subscriber registered.
    first_fresh_read: u64,
}

impl Page {
    /// Whether the log may have more after this page: it is full.
    pub fn is_full(&self) -> bool {
        self.events.len() >= self.limit
    }

    /// The last sequence number this page accounts for.
    pub fn end(&self) -> Seq {
        self.events.last().map_or(self.after, Event::seq)
    }

    /// Whether this page is the last a subscriber whose queue starts at `start` reads: it is
    /// short (the log ended there when it was read), and it was read after the subscriber
    /// registered (every later event was published since, into its queue) or reaches where its
    /// queue starts.
    pub fn ends_catch_up_for(&self, start: QueueStart) -> bool {
        !self.is_full() && (self.read >= start.first_fresh_read || self.end() >= start.after)
    }
}

type Read = Shared<BoxFuture<'static, Result<Arc<Page>, Arc<ReadError>>>>;

pub struct CatchUpReads {
    reads: Mutex<Reads>,
    /// Counts the reads made (`tryvoha_catch_up_reads_total`).
    metrics: Arc<Metrics>,
    keep_for: Duration,
}

#[derive(Default)]
struct Reads {
    /// The number the next read gets.
    next_read: u64,
    /// Each read with when it began.
    by_after: HashMap<(Seq, usize), (Read, Instant)>,
    /// Oldest first, for eviction.
    order: VecDeque<(Seq, usize)>,
}

impl CatchUpReads {
    pub fn new(metrics: Arc<Metrics>) -> CatchUpReads {
        CatchUpReads::keeping_for(KEEP_FOR, metrics)
    }

    fn keeping_for(keep_for: Duration, metrics: Arc<Metrics>) -> CatchUpReads {
        CatchUpReads { reads: Mutex::default(), metrics, keep_for }
    }

    /// Where the queue of a subscriber that has just registered starts (every event after
    /// `queued_after` is in it), for [`CatchUpReads::page`].
    pub fn queue_start(&self, queued_after: Seq) -> QueueStart {
        QueueStart { after: queued_after, first_fresh_read: self.lock().next_read }
    }

    /// The page after `after`: a read in progress or done that serves this subscriber (whose
    /// queue starts at `start`), or a new one from `log`.
    pub async fn page(
        &self,
        log: &Arc<dyn LogReader>,
        after: Seq,
        limit: usize,
        start: QueueStart,
    ) -> Result<Arc<Page>, Arc<ReadError>> {
        let read = self.read(log, after, limit, start);
        let page = read.clone().await;
        if page.is_err() {
            // Not kept: the next subscriber tries the log again.
            self.forget(&read, (after, limit));
        }
        page
    }

    fn read(&self, log: &Arc<dyn LogReader>, after: Seq, limit: usize, start: QueueStart) -> Read {
        let key = (after, limit);
        let now = Instant::now();
        let mut reads = self.lock();
        if let Some(began) = now.checked_sub(self.keep_for) {
            reads.forget_older_than(began);
        }
        if let Some((read, _)) = reads.by_after.get(&key) {
            match read.peek() {
                None => return read.clone(), // in progress: its page is at least as new as a done one
                Some(Ok(page)) if page.is_full() || page.ends_catch_up_for(start) => return read.clone(),
                Some(_) => {} // failed, or short and older than this subscriber: read again
            }
        }
        let log = log.clone();
        self.metrics.catch_up_read();
        let number = reads.next_read;
        reads.next_read += 1;
        let read = async move {
            let events = log.events_after(after, limit).await.map_err(Arc::new)?;
            Ok(Arc::new(Page { after, limit, events, read: number }))
        }
        .boxed()
        .shared();
        if reads.by_after.insert(key, (read.clone(), now)).is_some() {
            reads.order.retain(|kept| *kept != key);
        }
        reads.order.push_back(key);
        while reads.order.len() > KEPT_PAGES {
            if let Some(oldest) = reads.order.pop_front() {
                reads.by_after.remove(&oldest);
            }
        }
        read
    }

    fn forget(&self, failed: &Read, key: (Seq, usize)) {
        let mut reads = self.lock();
        if reads.by_after.get(&key).is_some_and(|(kept, _)| kept.ptr_eq(failed)) {
            reads.by_after.remove(&key);
            reads.order.retain(|kept| *kept != key);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Reads> {
        // Every critical section leaves the maps consistent, so a poisoned lock is still sound.
        self.reads.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Reads {
    /// Lets go of the reads that began before `began` (the oldest are first in `order`).
    fn forget_older_than(&mut self, began: Instant) {
        while let Some(oldest) = self.order.front() {
            match self.by_after.get(oldest) {
                Some((_, at)) if *at >= began => break,
                _ => {
                    let oldest = *oldest;
                    self.order.pop_front();
                    self.by_after.remove(&oldest);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
