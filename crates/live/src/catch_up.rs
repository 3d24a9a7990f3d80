//! Catch-up reads of the log, shared by the subscribers that resume from the same point.
//!
//! After a restart or a network blip, thousands of clients reconnect within a second with the
//! same `Last-Event-ID`. Each would read the same page of the log (one store read and one
//! blocking-pool thread apiece); here the first one reads it and the others wait for that read,
//! or take the page it left.
//!
//! A shared page may be older than the subscriber that takes it, so it is taken on its terms:
//! a full page is the same whenever it was read; a short one ended the log *when it was read*,
//! and ends a subscriber's catch-up only if it reaches what that subscriber's live queue starts
//! after (see [`Page::ends_catch_up_for`]). Otherwise the subscriber reads on from its end: a
//! stale page costs a read, never an event.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tryvoha_core::{Event, Seq};
use tryvoha_follow::{LogReader, ReadError};

use crate::metrics::Metrics;

/// How many resume points keep their page: a storm has one or a few.
const KEPT_PAGES: usize = 64;

/// Up to `limit` events after `after`, as the log held them when read.
#[derive(Debug)]
pub struct Page {
    pub after: Seq,
    pub limit: usize,
    pub events: Vec<Event>,
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

    /// Whether, for a subscriber whose live queue holds every event after `queued_after`, this
    /// page is the last to read: it is short (the log ended there) and reaches that point.
    pub fn ends_catch_up_for(&self, queued_after: Seq) -> bool {
        !self.is_full() && self.end() >= queued_after
    }
}

type Read = Shared<BoxFuture<'static, Result<Arc<Page>, Arc<ReadError>>>>;

pub struct CatchUpReads {
    reads: Mutex<Reads>,
    /// Counts the reads made (`tryvoha_catch_up_reads_total`).
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Reads {
    by_after: HashMap<(Seq, usize), Read>,
    /// Oldest first, for eviction.
    order: VecDeque<(Seq, usize)>,
}

impl CatchUpReads {
    pub fn new(metrics: Arc<Metrics>) -> CatchUpReads {
        CatchUpReads { reads: Mutex::default(), metrics }
    }

    /// The page after `after`: a read in progress or done that serves this subscriber (whose
    /// live queue holds everything after `queued_after`), or a new one from `log`.
    pub async fn page(
        &self,
        log: &Arc<dyn LogReader>,
        after: Seq,
        limit: usize,
        queued_after: Seq,
    ) -> Result<Arc<Page>, Arc<ReadError>> {
        let read = self.read(log, after, limit, queued_after);
        let page = read.clone().await;
        if page.is_err() {
            // Not kept: the next subscriber tries the log again.
            self.forget(&read, (after, limit));
        }
        page
    }

    fn read(&self, log: &Arc<dyn LogReader>, after: Seq, limit: usize, queued_after: Seq) -> Read {
        let key = (after, limit);
        let mut reads = self.lock();
        if let Some(read) = reads.by_after.get(&key) {
            match read.peek() {
                None => return read.clone(), // in progress: its page is at least as new as a done one
                Some(Ok(page)) if page.is_full() || page.ends_catch_up_for(queued_after) => return read.clone(),
                Some(_) => {} // failed, or short and older than this subscriber: read again
            }
        }
        let log = log.clone();
        self.metrics.catch_up_read();
        let read = async move {
            let events = log.events_after(after, limit).await.map_err(Arc::new)?;
            Ok(Arc::new(Page { after, limit, events }))
        }
        .boxed()
        .shared();
        if reads.by_after.insert(key, read.clone()).is_none() {
            reads.order.push_back(key);
        }
        while reads.order.len() > KEPT_PAGES {
            if let Some(oldest) = reads.order.pop_front() {
                reads.by_after.remove(&oldest);
            }
        }
        read
    }

    fn forget(&self, failed: &Read, key: (Seq, usize)) {
        let mut reads = self.lock();
        if reads.by_after.get(&key).is_some_and(|kept| kept.ptr_eq(failed)) {
            reads.by_after.remove(&key);
            reads.order.retain(|kept| *kept != key);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Reads> {
        // Every critical section leaves the maps consistent, so a poisoned lock is still sound.
        self.reads.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests;
