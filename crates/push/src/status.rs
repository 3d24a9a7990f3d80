//! The push sender's counts, for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counts for `/metrics`.
#[derive(Default)]
pub struct PushStatus {
    pub sent: AtomicU64,
    pub accepted: AtomicU64,
    pub failed: AtomicU64,
    pub pruned: AtomicU64,
    /// Not sent: the message's life was over before it could be.
    pub expired: AtomicU64,
}

impl PushStatus {
    pub fn render_metrics(&self, subscriptions: usize) -> String {
        let mut out = format!(
            "# HELP tryvoha_push_subscriptions Web Push subscriptions.\n# TYPE tryvoha_push_subscriptions gauge\n\
             tryvoha_push_subscriptions {subscriptions}\n\
             # HELP tryvoha_push_requests_total Web Push requests by outcome.\n# TYPE tryvoha_push_requests_total counter\n"
        );
        for (outcome, count) in [
            ("sent", &self.sent),
            ("accepted", &self.accepted),
            ("failed", &self.failed),
            ("pruned", &self.pruned),
            ("expired", &self.expired),
        ] {
            out.push_str(&format!("tryvoha_push_requests_total{{outcome=\"{outcome}\"}} {}\n", count.load(Relaxed)));
        }
        out
    }
}
