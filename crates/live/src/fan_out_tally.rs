//! What one fan-out thread counts while it writes to parked streams' sockets, added to the
//! shared counters (each frame's deliveries, the server's metrics) once, when it is done.

use std::sync::Arc;

use time::OffsetDateTime;
use tryvoha_core::Seq;
use tryvoha_deliveries::LatencyCounts;

use crate::frame::Frame;
use crate::metrics::{DeliveryCounts, Metrics, Transport};

pub(crate) struct FanOutTally {
    /// Per frame of the batch (in order of sequence number), per transport: its deliveries.
    frames: Vec<(Seq, [LatencyCounts; 2])>,
    counts: DeliveryCounts,
}

impl FanOutTally {
    /// For a batch's frames, in order of sequence number (each counted by its number).
    pub(crate) fn new(frames: &[Arc<Frame>]) -> FanOutTally {
        debug_assert!(frames.windows(2).all(|pair| pair[0].seq < pair[1].seq), "a batch's frames in order");
        let frames = frames.iter().map(|frame| (frame.seq, Default::default())).collect();
        FanOutTally { frames, counts: DeliveryCounts::default() }
    }

    /// `frame` was written whole to a stream of `transport` at `now`.
    pub(crate) fn delivered(&mut self, frame: &Frame, transport: Transport, now: OffsetDateTime) {
        let latency = now - frame.decided_at;
        if let Ok(at) = self.frames.binary_search_by_key(&frame.seq, |(seq, _)| *seq) {
            self.frames[at].1[transport as usize].record(latency.try_into().unwrap_or_default());
        }
        self.counts.delivered(latency.as_seconds_f64());
    }

    /// A socket did not take all the fan-out had for it: the rest went to the stream's task.
    pub(crate) fn handed_over(&mut self) {
        self.counts.handovers += 1;
    }

    /// Adds what was counted to `frames`' deliveries (the frames this tally was made for) and
    /// to `metrics`.
    pub(crate) fn add_to(self, frames: &[Arc<Frame>], metrics: &Metrics) {
        for (frame, (_, by_transport)) in frames.iter().zip(&self.frames) {
            for transport in [Transport::Sse, Transport::WebSocket] {
                frame.delivered_all(transport.channel(), &by_transport[transport as usize]);
            }
        }
        metrics.add(&self.counts);
    }
}
