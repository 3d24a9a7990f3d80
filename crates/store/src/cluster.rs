//! What the nodes of a cluster share beside the log: leases, so that work meant to run once
//! (the MQTT publisher, the webhook and Web Push senders) runs on one node at a time, and the
//! cluster's keys, so that every node signs as the same server.

use std::time::Duration;

/// A lease on a piece of singleton work, by name. The store's clock decides when a lease has
/// run out (one clock for every node: theirs may disagree).
///
/// Invariant: at any moment of the store's clock at most one holder has an unexpired lease on
/// a name. A holder that cannot renew in time must stop the work before its lease runs out by
/// its own clock; the work it does is at-least-once, so a late stop repeats, never skips.
pub trait LeaseStore: Send + Sync {
    /// Takes the lease `name` for `holder` until `ttl` from now, or renews it when `holder`
    /// already has it. False when another holder's lease has not run out.
    fn take_lease(&self, name: &str, holder: &str, ttl: Duration) -> crate::StoreResult<bool>;
    /// Gives the lease up, if `holder` has it, so that another node takes over at once.
    fn release_lease(&self, name: &str, holder: &str) -> crate::StoreResult<()>;
}

/// The cluster's keys by name (the event signing key, the VAPID key), so that a frame verifies
/// and a push subscription works whichever node served it.
pub trait KeyStore: Send + Sync {
    /// The key stored under `name`, if one is.
    fn cluster_key(&self, name: &str) -> crate::StoreResult<Option<Vec<u8>>>;
    /// Stores `key` under `name` unless a key is stored there already; returns the key that is
    /// stored now (this one, or the one that was first).
    fn offer_cluster_key(&self, name: &str, key: &[u8]) -> crate::StoreResult<Vec<u8>>;
}
