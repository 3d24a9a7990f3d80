//! The fan-out's delivery of a batch of events: who hears them (worked out under the hub's
//! lock), then the writes and the queueing (outside it), from one thread per core for a large
//! audience.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::sync::Arc;

use tryvoha_core::{Event, RegionId};

use super::audiences::{self, Member};
use super::{BATCH_EVENTS, Hub, SUBSCRIBERS_PER_THREAD};
use crate::fan_out_tally::FanOutTally;
use crate::frame::Frame;
use crate::tap::Offered;

impl Hub {
    /// Delivers `frame` to every subscriber that hears `event`.
    pub fn publish(&self, frame: &Arc<Frame>, event: &Event) {
        self.publish_all(std::slice::from_ref(event), std::slice::from_ref(frame));
    }

    /// Delivers each of `events` (in order, at most [`BATCH_EVENTS`], `frames` theirs) to every
    /// subscriber that hears it, all of a subscriber's in one go: written to its socket while
    /// its stream is parked, else queued (`Tap::offer`). The writes happen outside the hub's
    /// lock, which subscribing and leaving take meanwhile.
    pub fn publish_all<E: Borrow<Event>>(&self, events: &[E], frames: &[Arc<Frame>]) {
        let audience = self.audience_of(events, frames);
        let events: Vec<&Event> = events.iter().map(Borrow::borrow).collect();
        let gone = self.offer_in_shards(&audience, &events, frames);
        if !gone.is_empty() {
            let sockets: Vec<_> = {
                let mut state = self.lock();
                gone.into_iter().filter_map(|id| state.forget(id)).collect()
            };
            drop(sockets);
        }
    }

    /// Offers the frames to `audience`, on one thread per core for a large audience (each
    /// subscriber on one of them, so its frames stay in order); returns who is gone. A write
    /// to a loopback or local socket does the receiver's part too, and waking a reader asleep
    /// on another core costs more than the write: spread over the cores, the writes cost less
    /// each, and all are done sooner.
    fn offer_in_shards(&self, audience: &[Member], events: &[&Event], frames: &[Arc<Frame>]) -> Vec<u64> {
        let threads = self.fan_out_threads.min(audience.len() / SUBSCRIBERS_PER_THREAD).max(1);
        if threads == 1 {
            return self.offer_to(audience, events, frames);
        }
        let size = audience.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let mut gone = Vec::new();
            let mut others = Vec::new();
            for part in audience[size..].chunks(size) {
                let thread = std::thread::Builder::new().name("tryvoha-fan-out".into());
                match thread.spawn_scoped(scope, move || self.offer_to(part, events, frames)) {
                    Ok(other) => others.push(other),
                    // No thread to spare: this one does that part too.
                    Err(_) => gone.extend(self.offer_to(part, events, frames)),
                }
            }
            gone.extend(self.offer_to(&audience[..size], events, frames));
            for other in others {
                match other.join() {
                    Ok(more) => gone.extend(more),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            gone
        })
    }

    /// Offers each subscriber of `part` its share of `frames` (those of `events` its filter
    /// takes; [`crate::tap::Tap::offer`]); returns who is gone. What it delivers is counted here and added
    /// to the shared counters once.
    fn offer_to(&self, part: &[Member], events: &[&Event], frames: &[Arc<Frame>]) -> Vec<u64> {
        let mut tally = FanOutTally::new(frames);
        let mut offered = Vec::with_capacity(frames.len());
        let mut gone = Vec::new();
        for Member { id, tap, filter } in part {
            offered.clear();
            let heard = events.iter().zip(frames).filter(|(event, _)| filter.matches_event(event, &self.registry));
            offered.extend(heard.map(|(_, frame)| frame));
            if offered.is_empty() {
                continue;
            }
            match tap.offer(&offered, &mut tally) {
                Offered::Taken => {}
                Offered::Full => {
                    self.metrics.slow_subscriber_cut();
                    tracing::info!(
                        subscriber = id,
                        "cut off a subscriber whose queue is full; it resumes by its last id"
                    );
                    gone.push(*id);
                }
                Offered::Gone => gone.push(*id),
            }
        }
        tally.add_to(frames, &self.metrics);
        gone
    }

    /// Who may hear `events` (by region; each one's filter decides), each subscriber once.
    /// Marks the events published: a subscriber registering from now reads them from the log.
    fn audience_of<E: Borrow<Event>>(&self, events: &[E], frames: &[Arc<Frame>]) -> Vec<Member> {
        assert!(events.len() <= BATCH_EVENTS && events.len() == frames.len(), "a batch's events and frames");
        let mut state = self.lock();
        let state = &mut *state;
        let published = frames.iter().map(|frame| frame.seq).max().unwrap_or(0);
        state.published_through = state.published_through.max(published);
        let regions: HashSet<RegionId> = events.iter().map(|event| event.borrow().region_id()).collect();
        audiences::listening_to_any(&regions, &state.audience, &state.subscribers)
    }
}
