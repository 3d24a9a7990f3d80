//! The recent delivery attempts of each endpoint, as `GET /api/v1/webhooks/{id}/deliveries`
//! shows them: kept in memory, the newest [`KEPT_ATTEMPTS`] per endpoint (the log keeps what
//! was said; this says how the last deliveries went).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use time::OffsetDateTime;
use tryvoha_store::WebhookId;

pub const KEPT_ATTEMPTS: usize = 100;

#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    /// The event delivered; 0 for a test delivery.
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The endpoint's answer; null when there was none (refused, timed out).
    pub status: Option<u16>,
    pub latency_ms: f64,
    /// Why there was no answer, or null.
    pub error: Option<String>,
}

#[derive(Default)]
pub struct Attempts {
    by_endpoint: Mutex<HashMap<WebhookId, VecDeque<Attempt>>>,
}

impl Attempts {
    pub fn record(&self, id: WebhookId, attempt: Attempt) {
        let mut all = self.by_endpoint.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = all.entry(id).or_default();
        if kept.len() == KEPT_ATTEMPTS {
            kept.pop_front();
        }
        kept.push_back(attempt);
    }

    /// Newest first.
    pub fn recent(&self, id: WebhookId) -> Vec<Attempt> {
        let all = self.by_endpoint.lock().unwrap_or_else(PoisonError::into_inner);
        all.get(&id).map(|kept| kept.iter().rev().cloned().collect()).unwrap_or_default()
    }

    pub fn forget(&self, id: WebhookId) {
        self.by_endpoint.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }
}
