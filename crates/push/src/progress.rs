//! What each subscription's push service has accepted: the newest event per subscription. The
//! sender skips a subscription that already has an event, so a sender that stops in the middle
//! of one (a restart, a deploy) sends it afterwards only to the subscriptions that did not get
//! it. Kept in memory as answers arrive and written to the store in batches, every half second
//! while sending and once when the sender stops; after a crash (no stop), the acceptances of
//! the last half second may be sent again: at least once, never lost. The service worker drops
//! a repeat it has already shown (docs/push.md).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tryvoha_core::Seq;
use tryvoha_store::{PushSubscription, PushSubscriptionId};

#[derive(Default)]
pub(crate) struct Progress {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    delivered: HashMap<PushSubscriptionId, Seq>,
    unsaved: HashMap<PushSubscriptionId, Seq>,
}

impl Progress {
    /// What the store says was delivered (never moving back what this node knows of: the
    /// store may not have its last answers yet).
    pub fn load(&self, stored: &[PushSubscription]) {
        let mut inner = self.lock();
        for subscription in stored.iter().filter(|s| s.delivered > 0) {
            let newest = inner.delivered.entry(subscription.id).or_default();
            *newest = (*newest).max(subscription.delivered);
        }
    }

    /// The progress held still, for one pass over many subscriptions (one lock, not one each).
    pub fn view(&self) -> ProgressView<'_> {
        ProgressView(self.lock())
    }

    pub fn accepted(&self, id: PushSubscriptionId, seq: Seq) {
        let mut inner = self.lock();
        let newest = inner.delivered.entry(id).or_default();
        *newest = (*newest).max(seq);
        let newest = *newest;
        inner.unsaved.insert(id, newest);
    }

    /// The subscription is gone.
    pub fn forget(&self, id: PushSubscriptionId) {
        let mut inner = self.lock();
        inner.delivered.remove(&id);
        inner.unsaved.remove(&id);
    }

    /// What has not been written yet, handed over for writing.
    pub fn take_unsaved(&self) -> Vec<(PushSubscriptionId, Seq)> {
        let mut unsaved: Vec<_> = self.lock().unsaved.drain().collect();
        // In id order: the store's rows are touched in the order of its primary key.
        unsaved.sort_unstable();
        unsaved
    }

    /// A write failed: what it carried is unsaved again (unless newer progress came meanwhile).
    pub fn restore_unsaved(&self, failed: Vec<(PushSubscriptionId, Seq)>) {
        let mut inner = self.lock();
        for (id, seq) in failed {
            if inner.delivered.contains_key(&id) {
                let newest = inner.unsaved.entry(id).or_default();
                *newest = (*newest).max(seq);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) struct ProgressView<'a>(MutexGuard<'a, Inner>);

impl ProgressView<'_> {
    /// True when the subscription's push service already accepted `seq` (or a later event).
    pub fn has(&self, id: PushSubscriptionId, seq: Seq) -> bool {
        self.0.delivered.get(&id).is_some_and(|&delivered| delivered >= seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_only_moves_forward_and_is_written_once() {
        let progress = Progress::default();
        assert!(!progress.view().has(1, 1));
        progress.accepted(1, 5);
        progress.accepted(1, 3);
        progress.accepted(2, 4);
        let view = progress.view();
        assert!(view.has(1, 5) && view.has(1, 4) && !view.has(1, 6), "the newest counts");
        drop(view);
        assert_eq!(progress.take_unsaved(), [(1, 5), (2, 4)]);
        assert_eq!(progress.take_unsaved(), [], "handed over once");
        progress.restore_unsaved(vec![(1, 5), (2, 4)]);
        progress.forget(2);
        assert_eq!(progress.take_unsaved(), [(1, 5)], "a failed write comes back; a removed one does not");
        assert!(!progress.view().has(2, 4));
    }
}
