//! Where the hub puts a subscriber's frames: its queue, or, while the subscriber's stream waits
//! with nothing to write, its socket itself.
//!
//! One message at a time to thousands of waiting subscribers, a delivery through the queue
//! costs a wake-up of the subscriber's task besides the write, and the write alone is the
//! physical floor. So a stream with nothing left to write *parks* ([`crate::Feed::park`]): from
//! then on the hub writes each frame to its socket itself, without waiting, and the task sleeps
//! on. What the socket does not take at once (it is full: the client reads slowly) goes back to
//! the task: the hub unparks the stream and queues the frame, noting how much of it was
//! written, and the task writes the rest before anything else. The task unparks too, before it
//! writes anything of its own (a heartbeat, an answer, last words).
//!
//! Invariant: one writer owns a socket at any moment, the hub while the stream is parked, its
//! task otherwise. Both decide under the tap's lock, and the hub writes under it, so that their
//! bytes never interleave, and every frame is written once, in order.

use std::io::IoSlice;
use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tryvoha_core::Seq;

use crate::fan_out_tally::FanOutTally;
use crate::frame::Frame;
use crate::hub::BATCH_EVENTS;
use crate::metrics::Transport;

/// A stream's socket, as the hub writes to it.
pub trait Outlet: Send + Sync {
    /// Writes what the socket takes now of `parts`, in order, in one system call, without
    /// waiting: `WouldBlock` when it takes nothing. Only what it takes is copied.
    fn try_write_vectored(&self, parts: &[IoSlice<'_>]) -> std::io::Result<usize>;
}

/// One subscriber's way in, shared by the hub and the subscriber's feed.
pub(crate) struct Tap {
    state: Mutex<TapState>,
}

struct TapState {
    /// The live queue; `None` once the hub let the subscriber go (its queue ends after what it
    /// holds).
    sender: Option<mpsc::Sender<Arc<Frame>>>,
    /// The last sequence number queued, written or already sent: a frame is taken once, and
    /// never after a later one.
    last_taken: Seq,
    /// The socket the hub may write to while the stream is parked; `None` for a stream whose
    /// socket is not its own (through hyper).
    outlet: Option<(Arc<dyn Outlet>, Transport)>,
    parked: bool,
    /// The last frame the hub wrote to the socket itself.
    last_written: Seq,
    /// How many bytes of the first queued frame the hub wrote before the socket was full.
    written_of_next: usize,
}

impl TapState {
    fn close(&mut self) -> Option<Arc<dyn Outlet>> {
        self.sender = None;
        self.parked = false;
        self.outlet.take().map(|(outlet, _)| outlet)
    }
}

/// What became of the frames offered to a subscriber.
pub(crate) enum Offered {
    Taken,
    /// Its queue is full: it fell behind and is cut off.
    Full,
    /// It is gone.
    Gone,
}

/// What a parked stream takes back from the hub ([`Tap::unpark`]).
pub(crate) struct TakenBack {
    pub(crate) last_written: Seq,
    pub(crate) written_of_next: usize,
}

impl Tap {
    pub(crate) fn new(sender: Option<mpsc::Sender<Arc<Frame>>>) -> Tap {
        let state =
            TapState { sender, last_taken: 0, outlet: None, parked: false, last_written: 0, written_of_next: 0 };
        Tap { state: Mutex::new(state) }
    }

    /// Gives the hub the stream's socket, to write to whenever the stream parks.
    pub(crate) fn attach(&self, outlet: Arc<dyn Outlet>, transport: Transport) {
        self.lock().outlet = Some((outlet, transport));
    }

    /// Parks the stream unless its queue holds a frame (`queued` takes it, under the lock that
    /// the hub queues under): true when the hub now writes to the socket. `sent` is the last
    /// frame the stream sent, which the hub then never writes again.
    pub(crate) fn park(&self, sent: Seq, queued: impl FnOnce() -> bool) -> bool {
        let mut state = self.lock();
        if state.outlet.is_none() || state.sender.is_none() || queued() {
            return false;
        }
        state.last_taken = state.last_taken.max(sent);
        state.parked = true;
        true
    }

    /// The socket is the task's again: what the hub wrote while the stream was parked.
    pub(crate) fn unpark(&self) -> TakenBack {
        let mut state = self.lock();
        state.parked = false;
        let written_of_next = std::mem::take(&mut state.written_of_next);
        TakenBack { last_written: state.last_written, written_of_next }
    }

    /// Lets the subscriber go: no frame is written or queued any more, and the queue ends after
    /// what it holds.
    /// Returns the socket, for the caller to drop outside its locks (it may be the last
    /// reference: the close and its deregistration are system calls).
    #[must_use = "dropped outside the hub's lock"]
    pub(crate) fn close(&self) -> Option<Arc<dyn Outlet>> {
        let mut state = self.lock();
        state.close()
    }

    /// The hub's delivery of `frames` (in order; any already taken are skipped): written to the
    /// socket while the stream is parked (all of them in one write), else queued. A queue that
    /// fills lets the subscriber go at once, under the same lock: nothing is written or queued
    /// behind the frame it could not take.
    pub(crate) fn offer(&self, frames: &[&Arc<Frame>], tally: &mut FanOutTally) -> Offered {
        let mut state = self.lock();
        let state = &mut *state;
        if state.sender.is_none() {
            return Offered::Gone;
        }
        let fresh = frames.iter().position(|frame| frame.seq > state.last_taken).unwrap_or(frames.len());
        let frames = &frames[fresh..];
        let Some(last) = frames.last() else { return Offered::Taken };
        state.last_taken = last.seq;
        let mut unwritten = frames;
        if state.parked
            && let Some((outlet, transport)) = &state.outlet
        {
            let (left, written_of_next) = write(outlet.as_ref(), *transport, frames, tally);
            state.last_written = frames[..frames.len() - left.len()].last().map_or(state.last_written, |f| f.seq);
            if left.is_empty() {
                return Offered::Taken;
            }
            // The socket is full (or failed: the task finds out when it writes): the rest is
            // the task's, and the half-written frame first.
            tally.handed_over();
            state.parked = false;
            state.written_of_next = written_of_next;
            unwritten = left;
        }
        let Some(sender) = &state.sender else { return Offered::Gone };
        for frame in unwritten {
            match sender.try_send(Arc::clone(frame)) {
                Ok(()) => {}
                Err(error) => {
                    // The queue ends after what it holds; the outlet goes when the hub forgets
                    // the subscriber, outside its lock.
                    state.sender = None;
                    state.parked = false;
                    return match error {
                        mpsc::error::TrySendError::Full(_) => Offered::Full,
                        mpsc::error::TrySendError::Closed(_) => Offered::Gone,
                    };
                }
            }
        }
        Offered::Taken
    }

    fn lock(&self) -> MutexGuard<'_, TapState> {
        // Every critical section leaves the state consistent, so a poisoned lock is still sound.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Writes `frames` to `outlet` in one write, as far as it takes them: the frames not written
/// whole, and how much of the first of those was written. The frames written whole are
/// counted delivered in `tally`; the others are the task's to count.
fn write<'a>(
    outlet: &dyn Outlet,
    transport: Transport,
    frames: &'a [&'a Arc<Frame>],
    tally: &mut FanOutTally,
) -> (&'a [&'a Arc<Frame>], usize) {
    let mut parts = [IoSlice::new(&[]); BATCH_EVENTS];
    let count = frames.len().min(BATCH_EVENTS);
    for (part, frame) in parts.iter_mut().zip(&frames[..count]) {
        *part = IoSlice::new(frame.bytes(transport));
    }
    let mut written = outlet.try_write_vectored(&parts[..count]).unwrap_or(0);
    let now = OffsetDateTime::now_utc();
    for (index, frame) in frames.iter().enumerate() {
        let size = frame.bytes(transport).len();
        if written < size {
            return (&frames[index..], written);
        }
        written -= size;
        tally.delivered(frame, transport, now);
    }
    (&[], 0)
}

#[cfg(test)]
mod tests;
