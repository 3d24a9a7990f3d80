//! Web Push subscriptions as the store keeps them: one per endpoint (a browser's or a
//! UnifiedPush distributor's URL), with the keys its messages are encrypted to and the filter
//! of what it is sent.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tryvoha_core::{AlertKind, AlertStatus, RegionId, Seq};

pub type PushSubscriptionId = u64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushFilter {
    /// Events on these regions, their ancestors and descendants (never empty: a phone asks for
    /// the places it cares about).
    pub regions: Vec<RegionId>,
    /// Every kind when empty.
    pub kinds: Vec<AlertKind>,
    /// Every status when empty.
    pub statuses: Vec<AlertStatus>,
    /// The language of the notification's text: `uk` or `en`.
    pub lang: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: PushSubscriptionId,
    /// The push service's URL for this browser or app; unique.
    pub endpoint: String,
    /// The user agent's P-256 public key (uncompressed, base64url), messages are encrypted to.
    pub p256dh: String,
    /// The 16-byte authentication secret (base64url); also the proof a removal must give.
    pub auth: String,
    pub filter: PushFilter,
    pub created_at: OffsetDateTime,
    /// The newest event its push service accepted a message about (0: none yet), so that a
    /// sender that restarts mid-event does not send it again.
    pub delivered: Seq,
}

/// Never prints the keys.
impl std::fmt::Debug for PushSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSubscription")
            .field("id", &self.id)
            .field("endpoint", &self.endpoint)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

/// What a new or renewed subscription says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPushSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub filter: PushFilter,
    pub created_at: OffsetDateTime,
}

pub trait PushStore: Send + Sync {
    /// Stores the subscription, or replaces the keys and filter of the one with its endpoint
    /// (a browser renewing, a user changing what they follow; what it was delivered stays).
    /// Returns it and whether it is new.
    fn upsert_push_subscription(
        &self,
        subscription: &NewPushSubscription,
    ) -> crate::StoreResult<(PushSubscription, bool)>;
    /// Every subscription, by id.
    fn push_subscriptions(&self) -> crate::StoreResult<Vec<PushSubscription>>;
    /// Removes the subscription with this endpoint *and* this auth secret; false when there was
    /// none (a renewal with other keys since is left alone).
    fn remove_push_subscription(&self, endpoint: &str, auth: &str) -> crate::StoreResult<bool>;
    /// Records, per subscription, the newest event its push service accepted. A subscription
    /// gone meanwhile is skipped; a record never moves back.
    fn set_push_delivered(&self, delivered: &[(PushSubscriptionId, Seq)]) -> crate::StoreResult<()>;
}
