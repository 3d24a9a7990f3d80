//! Delivery accounting: for each alert and each channel (SSE, WebSocket, MQTT, webhooks), how
//! many deliveries were attempted, how many arrived, how many failed, and how long they took
//! from the decision. An operator can see that an alert went out, and where it did not.
//!
//! Counters are atomics on an [`AlertDeliveries`] that every frame of the alert carries, so the
//! fan-out counts without a lock; the [`Ledger`] only hands them out and keeps the newest
//! [`LEDGER_ALERTS`] alerts (counts since this server started: the log keeps what was said,
//! this keeps how it travelled).
//!
//! No I/O: the channels count, `http` renders.

mod latency;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tryvoha_core::AlertId;

pub use latency::{Latency, LatencyCounts, LatencySummary};

/// How many alerts the ledger remembers: the newest ones, by first delivery.
pub const LEDGER_ALERTS: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sse,
    #[serde(rename = "websocket")]
    WebSocket,
    Mqtt,
    Webhook,
    #[serde(rename = "webpush")]
    WebPush,
}

impl Channel {
    pub const ALL: [Channel; 5] = [Channel::Sse, Channel::WebSocket, Channel::Mqtt, Channel::Webhook, Channel::WebPush];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sse => "sse",
            Channel::WebSocket => "websocket",
            Channel::Mqtt => "mqtt",
            Channel::Webhook => "webhook",
            Channel::WebPush => "webpush",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One channel's counts.
#[derive(Default)]
pub struct Tally {
    attempted: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    pruned: AtomicU64,
    expired: AtomicU64,
    latency: Latency,
}

impl Tally {
    fn attempted(&self) {
        self.attempted.fetch_add(1, Relaxed);
    }

    fn delivered(&self, latency: Duration) {
        self.delivered.fetch_add(1, Relaxed);
        self.latency.record(latency);
    }

    /// Deliveries attempted and made elsewhere, with their latencies.
    fn delivered_all(&self, counts: &LatencyCounts) {
        let count = counts.count();
        self.attempted.fetch_add(count, Relaxed);
        self.delivered.fetch_add(count, Relaxed);
        self.latency.add(counts);
    }

    fn failed(&self) {
        self.failed.fetch_add(1, Relaxed);
    }

    fn pruned(&self) {
        self.pruned.fetch_add(1, Relaxed);
    }

    fn expired(&self) {
        self.expired.fetch_add(1, Relaxed);
    }

    pub fn summary(&self) -> TallySummary {
        TallySummary {
            attempted: self.attempted.load(Relaxed),
            delivered: self.delivered.load(Relaxed),
            failed: self.failed.load(Relaxed),
            pruned: self.pruned.load(Relaxed),
            expired: self.expired.load(Relaxed),
            latency_ms: self.latency.summary(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TallySummary {
    /// Deliveries begun: a frame handed to a subscriber's socket, a publish sent to the broker,
    /// a request sent to an endpoint (each retry is another attempt).
    pub attempted: u64,
    /// Deliveries that arrived: written to the socket, acknowledged by the broker (PUBACK),
    /// answered 2xx by the endpoint.
    pub delivered: u64,
    /// Attempts that did not arrive then (a retry may deliver them later).
    pub failed: u64,
    /// Attempts answered "this recipient is gone" (a push service's 404/410, a webhook's 410):
    /// the subscription or webhook was removed, and nothing will be retried.
    pub pruned: u64,
    /// Not attempted: the message's life was over before it could be sent (a Web Push message
    /// after an outage; a late alert misleads more than a missing one).
    pub expired: u64,
    /// From the decision on the event to the delivery, over the delivered ones.
    pub latency_ms: LatencySummary,
}

/// The counts of one alert (every event about it), per channel, and the server's totals beside.
pub struct AlertDeliveries {
    alert: AlertId,
    channels: [Tally; Channel::ALL.len()],
    totals: Arc<Totals>,
}

/// The server's counts over every alert, per channel (for `/metrics`).
#[derive(Default)]
pub struct Totals {
    channels: [Tally; Channel::ALL.len()],
}

impl Totals {
    pub fn channel(&self, channel: Channel) -> &Tally {
        &self.channels[channel.index()]
    }
}

impl std::fmt::Debug for AlertDeliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertDeliveries").field("alert", &self.alert).finish_non_exhaustive()
    }
}

impl AlertDeliveries {
    pub fn alert(&self) -> AlertId {
        self.alert
    }

    pub fn attempted(&self, channel: Channel) {
        self.channels[channel.index()].attempted();
        self.totals.channels[channel.index()].attempted();
    }

    pub fn delivered(&self, channel: Channel, latency: Duration) {
        self.channels[channel.index()].delivered(latency);
        self.totals.channels[channel.index()].delivered(latency);
    }

    /// Deliveries counted elsewhere, each attempted and made, with their latencies
    /// ([`LatencyCounts`]): added at once.
    pub fn delivered_all(&self, channel: Channel, counts: &LatencyCounts) {
        if counts.count() > 0 {
            self.channels[channel.index()].delivered_all(counts);
            self.totals.channels[channel.index()].delivered_all(counts);
        }
    }

    pub fn failed(&self, channel: Channel) {
        self.channels[channel.index()].failed();
        self.totals.channels[channel.index()].failed();
    }

    pub fn pruned(&self, channel: Channel) {
        self.channels[channel.index()].pruned();
        self.totals.channels[channel.index()].pruned();
    }

    pub fn expired(&self, channel: Channel) {
        self.channels[channel.index()].expired();
        self.totals.channels[channel.index()].expired();
    }

    pub fn summary(&self) -> AlertSummary {
        AlertSummary {
            alert_id: self.alert,
            channels: Channel::ALL.iter().map(|&c| (c, self.channels[c.index()].summary())).collect(),
        }
    }
}

/// What `GET /api/v1/alerts/{id}/deliveries` answers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertSummary {
    pub alert_id: AlertId,
    pub channels: BTreeMap<Channel, TallySummary>,
}

/// Hands out each alert's counters, the same ones to every channel.
pub struct Ledger {
    alerts: Mutex<Remembered>,
    totals: Arc<Totals>,
    capacity: usize,
}

#[derive(Default)]
struct Remembered {
    by_alert: HashMap<AlertId, Arc<AlertDeliveries>>,
    oldest_first: VecDeque<AlertId>,
}

impl Default for Ledger {
    fn default() -> Ledger {
        Ledger::with_capacity(LEDGER_ALERTS)
    }
}

impl Ledger {
    pub fn with_capacity(capacity: usize) -> Ledger {
        Ledger { alerts: Mutex::default(), totals: Arc::default(), capacity: capacity.max(1) }
    }

    /// The counters of `alert`, made on first use; the oldest alert is forgotten past capacity.
    pub fn alert(&self, alert: AlertId) -> Arc<AlertDeliveries> {
        let mut remembered = self.alerts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = remembered.by_alert.get(&alert) {
            return found.clone();
        }
        let made = Arc::new(AlertDeliveries { alert, channels: Default::default(), totals: self.totals.clone() });
        remembered.by_alert.insert(alert, made.clone());
        remembered.oldest_first.push_back(alert);
        while remembered.oldest_first.len() > self.capacity {
            if let Some(oldest) = remembered.oldest_first.pop_front() {
                remembered.by_alert.remove(&oldest);
            }
        }
        made
    }

    /// All zeros for `alert`: what an alert nothing was delivered about shows.
    pub fn empty_summary(&self, alert: AlertId) -> AlertSummary {
        AlertDeliveries { alert, channels: Default::default(), totals: self.totals.clone() }.summary()
    }

    /// The counters of `alert` if anything was delivered about it since the server started.
    pub fn get(&self, alert: AlertId) -> Option<Arc<AlertDeliveries>> {
        self.alerts.lock().unwrap_or_else(PoisonError::into_inner).by_alert.get(&alert).cloned()
    }

    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// The totals in the Prometheus text format.
    pub fn render_metrics(&self) -> String {
        use std::fmt::Write;
        let mut out = String::from(
            "# HELP tryvoha_channel_deliveries_total Deliveries per channel and outcome (attempted, delivered, failed, pruned, expired).\n\
             # TYPE tryvoha_channel_deliveries_total counter\n",
        );
        for channel in Channel::ALL {
            let summary = self.totals.channel(channel).summary();
            for (outcome, count) in [
                ("attempted", summary.attempted),
                ("delivered", summary.delivered),
                ("failed", summary.failed),
                ("pruned", summary.pruned),
                ("expired", summary.expired),
            ] {
                let _ = writeln!(
                    out,
                    "tryvoha_channel_deliveries_total{{channel=\"{}\",outcome=\"{outcome}\"}} {count}",
                    channel.as_str()
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_counts_per_channel_and_into_the_totals() {
        let ledger = Ledger::default();
        let alert = ledger.alert(AlertId(7));
        alert.attempted(Channel::Mqtt);
        alert.delivered(Channel::Mqtt, Duration::from_millis(3));
        alert.attempted(Channel::Webhook);
        alert.failed(Channel::Webhook);
        alert.attempted(Channel::WebPush);
        alert.pruned(Channel::WebPush);
        ledger.alert(AlertId(8)).attempted(Channel::Mqtt);
        let summary = ledger.get(AlertId(7)).expect("remembered").summary();
        let mqtt = &summary.channels[&Channel::Mqtt];
        assert_eq!((mqtt.attempted, mqtt.delivered, mqtt.failed), (1, 1, 0));
        let webhook = &summary.channels[&Channel::Webhook];
        assert_eq!((webhook.attempted, webhook.delivered, webhook.failed), (1, 0, 1));
        let push = &summary.channels[&Channel::WebPush];
        assert_eq!((push.attempted, push.failed, push.pruned), (1, 0, 1), "a pruned recipient is not a failure");
        assert_eq!(ledger.totals().channel(Channel::Mqtt).summary().attempted, 2, "both alerts count in the totals");
        assert!(ledger.render_metrics().contains("channel=\"mqtt\",outcome=\"attempted\"} 2"));
    }

    #[test]
    fn the_same_alert_gets_the_same_counters_and_the_oldest_is_forgotten() {
        let ledger = Ledger::with_capacity(2);
        ledger.alert(AlertId(1)).attempted(Channel::Sse);
        assert_eq!(
            ledger.alert(AlertId(1)).summary().channels[&Channel::Sse].attempted,
            1,
            "one set of counters per alert"
        );
        ledger.alert(AlertId(2));
        ledger.alert(AlertId(3));
        assert!(ledger.get(AlertId(1)).is_none(), "past capacity the oldest alert is forgotten");
        assert!(ledger.get(AlertId(2)).is_some() && ledger.get(AlertId(3)).is_some());
    }
}
