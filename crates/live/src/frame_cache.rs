//! The signed frames of the newest events, shared by the hub's fan-out and the subscribers
//! catching up from the log: an event is serialized and signed once whichever way it reaches a
//! subscriber.

use std::sync::{Arc, Mutex, MutexGuard};

use tryvoha_core::{Event, Seq};
use tryvoha_deliveries::Ledger;

use crate::frame::Frame;
use crate::signer::Signer;

/// How many of the newest events keep their frames. A subscriber that reconnects after a short
/// break resumes well inside it; one further back signs the frames it reads (and keeps them for
/// the others only where no newer event holds the slot).
pub const FRAME_CACHE_EVENTS: usize = 1024;

/// A ring of frames: event `seq` lives in slot `seq % capacity`, so the cache is bounded and each
/// lookup touches one slot. Each slot has its own lock, held while a missing frame is signed:
/// readers of the same event wait for that one signature instead of making their own, and
/// readers of other events do not wait at all. A cache serves one signer (the hub's, which is
/// the server's one key): a frame is found by its sequence number alone.
pub struct FrameCache {
    slots: Box<[Mutex<Option<Arc<Frame>>>]>,
    /// Where the frames it makes count their deliveries.
    ledger: Arc<Ledger>,
}

impl FrameCache {
    pub fn new(capacity: usize) -> FrameCache {
        FrameCache::counting(capacity, Arc::default())
    }

    /// A cache whose frames count their deliveries in `ledger`.
    pub fn counting(capacity: usize, ledger: Arc<Ledger>) -> FrameCache {
        FrameCache { slots: (0..capacity.max(1)).map(|_| Mutex::new(None)).collect(), ledger }
    }

    /// The event's frame: the one already made, or signed now and kept unless a newer event
    /// holds its slot.
    pub fn frame(&self, event: &Event, signer: &Signer) -> Arc<Frame> {
        let mut slot = self.slot(event.seq());
        match slot.as_ref() {
            Some(kept) if kept.seq == event.seq() => kept.clone(),
            Some(kept) if kept.seq > event.seq() => Arc::new(Frame::counted_event(event, signer, &self.ledger)),
            _ => slot.insert(Arc::new(Frame::counted_event(event, signer, &self.ledger))).clone(),
        }
    }

    /// The frame of event `seq`, if it is kept.
    pub fn get(&self, seq: Seq) -> Option<Arc<Frame>> {
        self.slot(seq).as_ref().filter(|frame| frame.seq == seq).cloned()
    }

    fn slot(&self, seq: Seq) -> MutexGuard<'_, Option<Arc<Frame>>> {
        let index = (seq % self.slots.len() as u64) as usize;
        // A slot holds a whole Arc or none; a panic while signing leaves it as it was.
        self.slots[index].lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests;
