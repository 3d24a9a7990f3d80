//! Delivery metrics in the Prometheus text format, kept in atomics: no lock on the hot path.

use std::fmt::Write;
use std::sync::Arc;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use tryvoha_deliveries::{Channel, Ledger};

use time::OffsetDateTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Sse,
    WebSocket,
}

impl Transport {
    /// The channel its deliveries count under.
    pub fn channel(self) -> Channel {
        match self {
            Transport::Sse => Channel::Sse,
            Transport::WebSocket => Channel::WebSocket,
        }
    }
}

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
pub struct Metrics {
    /// Per alert and channel: what every channel delivered (the hub's frames count here).
    pub deliveries: Arc<Ledger>,
    sse_subscribers: AtomicI64,
    ws_subscribers: AtomicI64,
    delivered: AtomicU64,
    slow_cut: AtomicU64,
    stalled_cut: AtomicU64,
    lag_cut: AtomicU64,
    catch_up_reads: AtomicU64,
    fan_out_writes: AtomicU64,
    fan_out_handovers: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

/// What the fan-out delivered to parked streams, counted by the thread that wrote it and
/// added to [`Metrics`] at once: threads that write to thousands of sockets each do not
/// contend for the shared counters at every one.
#[derive(Default)]
pub(crate) struct DeliveryCounts {
    delivered: u64,
    latency_sum_micros: u64,
    latency_buckets: [u64; BUCKETS.len()],
    /// Times a parked stream's socket did not take all the fan-out had for it (full, or
    /// failed), and the rest went to the stream's task.
    pub(crate) handovers: u64,
}

impl DeliveryCounts {
    /// A frame written, `seconds` after its event was decided.
    pub(crate) fn delivered(&mut self, seconds: f64) {
        let seconds = seconds.max(0.0);
        self.delivered += 1;
        self.latency_sum_micros += (seconds * 1e6) as u64;
        if let Some(bucket) = latency_bucket(seconds) {
            self.latency_buckets[bucket] += 1;
        }
    }
}

/// The histogram bucket of a latency of `seconds`; none past the last bound (only `+Inf`).
fn latency_bucket(seconds: f64) -> Option<usize> {
    BUCKETS.iter().position(|&bound| seconds <= bound)
}

impl Metrics {
    pub fn connected(&self, transport: Transport) {
        self.gauge(transport).fetch_add(1, Relaxed);
    }

    pub fn disconnected(&self, transport: Transport) {
        self.gauge(transport).fetch_sub(1, Relaxed);
    }

    pub fn subscribers(&self, transport: Transport) -> i64 {
        self.gauge(transport).load(Relaxed)
    }

    /// A frame was handed to a connection's socket.
    pub fn delivered(&self, decided_at: OffsetDateTime) {
        self.delivered.fetch_add(1, Relaxed);
        let seconds = (OffsetDateTime::now_utc() - decided_at).as_seconds_f64().max(0.0);
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_micros.fetch_add((seconds * 1e6) as u64, Relaxed);
        if let Some(bucket) = latency_bucket(seconds) {
            self.latency_buckets[bucket].fetch_add(1, Relaxed);
        }
    }

    /// Adds what a fan-out thread counted ([`DeliveryCounts`]).
    pub(crate) fn add(&self, counts: &DeliveryCounts) {
        let add = |counter: &AtomicU64, count: u64| {
            if count > 0 {
                counter.fetch_add(count, Relaxed);
            }
        };
        add(&self.delivered, counts.delivered);
        add(&self.latency_count, counts.delivered);
        add(&self.latency_sum_micros, counts.latency_sum_micros);
        for (bucket, &count) in self.latency_buckets.iter().zip(&counts.latency_buckets) {
            add(bucket, count);
        }
        add(&self.fan_out_writes, counts.delivered);
        add(&self.fan_out_handovers, counts.handovers);
    }

    pub fn slow_subscriber_cut(&self) {
        self.slow_cut.fetch_add(1, Relaxed);
    }

    /// A subscriber was disconnected because one frame waited the write timeout for room in
    /// its socket: it stopped reading (its queue may still have room).
    pub fn stalled_subscriber_cut(&self) {
        self.stalled_cut.fetch_add(1, Relaxed);
    }

    /// Every subscriber was cut because the hub itself fell behind the log.
    pub fn hub_lagged(&self, subscribers: u64) {
        self.lag_cut.fetch_add(subscribers, Relaxed);
    }

    /// A subscriber catching up read a page of the log itself (the others resuming from the
    /// same point share it).
    pub fn catch_up_read(&self) {
        self.catch_up_reads.fetch_add(1, Relaxed);
    }

    pub fn catch_up_reads(&self) -> u64 {
        self.catch_up_reads.load(Relaxed)
    }

    pub fn slow_cuts(&self) -> u64 {
        self.slow_cut.load(Relaxed)
    }

    fn gauge(&self, transport: Transport) -> &AtomicI64 {
        match transport {
            Transport::Sse => &self.sse_subscribers,
            Transport::WebSocket => &self.ws_subscribers,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ =
            writeln!(out, "# HELP tryvoha_subscribers Connected live subscribers.\n# TYPE tryvoha_subscribers gauge");
        let _ = writeln!(out, "tryvoha_subscribers{{transport=\"sse\"}} {}", self.subscribers(Transport::Sse));
        let _ =
            writeln!(out, "tryvoha_subscribers{{transport=\"websocket\"}} {}", self.subscribers(Transport::WebSocket));
        let _ = writeln!(
            out,
            "# HELP tryvoha_events_delivered_total Frames handed to subscriber sockets.\n# TYPE tryvoha_events_delivered_total counter"
        );
        let _ = writeln!(out, "tryvoha_events_delivered_total {}", self.delivered.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tryvoha_fan_out_writes_total Of those, frames the fan-out wrote itself, to the socket of a stream that waited with nothing to write.\n# TYPE tryvoha_fan_out_writes_total counter"
        );
        let _ = writeln!(out, "tryvoha_fan_out_writes_total {}", self.fan_out_writes.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tryvoha_fan_out_handovers_total Times such a socket did not take all the fan-out had for it (it was full, or failed) and the rest went to the stream's own task.\n# TYPE tryvoha_fan_out_handovers_total counter"
        );
        let _ = writeln!(out, "tryvoha_fan_out_handovers_total {}", self.fan_out_handovers.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tryvoha_slow_subscribers_cut_total Subscribers disconnected because their queue was full.\n# TYPE tryvoha_slow_subscribers_cut_total counter"
        );
        let _ = writeln!(out, "tryvoha_slow_subscribers_cut_total {}", self.slow_cut.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tryvoha_stalled_subscribers_cut_total Subscribers disconnected because a frame waited the write timeout for room in their socket.\n# TYPE tryvoha_stalled_subscribers_cut_total counter"
        );
        let _ = writeln!(out, "tryvoha_stalled_subscribers_cut_total {}", self.stalled_cut.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tryvoha_lagged_subscribers_cut_total Subscribers disconnected because the hub fell behind the log.\n# TYPE tryvoha_lagged_subscribers_cut_total counter"
        );
        let _ = writeln!(out, "tryvoha_lagged_subscribers_cut_total {}", self.lag_cut.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tryvoha_catch_up_reads_total Pages of the event log read for subscribers catching up (shared by those resuming from the same point).\n# TYPE tryvoha_catch_up_reads_total counter"
        );
        let _ = writeln!(out, "tryvoha_catch_up_reads_total {}", self.catch_up_reads());
        let _ = writeln!(
            out,
            "# HELP tryvoha_delivery_latency_seconds From the decision on an event to its frame being written to a subscriber's socket.\n# TYPE tryvoha_delivery_latency_seconds histogram"
        );
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(&self.latency_buckets) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(out, "tryvoha_delivery_latency_seconds_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let total = self.latency_count.load(Relaxed);
        let _ = writeln!(out, "tryvoha_delivery_latency_seconds_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(
            out,
            "tryvoha_delivery_latency_seconds_sum {}",
            self.latency_sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "tryvoha_delivery_latency_seconds_count {total}");
        out.push_str(&self.deliveries.render_metrics());
        out
    }
}
