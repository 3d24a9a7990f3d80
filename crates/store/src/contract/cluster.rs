//! Leases on singleton work and the cluster's keys.

use std::time::Duration;

use crate::Store;

const LONG: Duration = Duration::from_secs(60);

pub fn a_lease_has_one_holder_until_it_runs_out_or_is_released(store: &dyn Store) {
    assert!(store.take_lease("mqtt", "node-a", LONG).unwrap(), "a lease nobody holds is taken");
    assert!(!store.take_lease("mqtt", "node-b", LONG).unwrap(), "another node's unexpired lease is not taken");
    assert!(store.take_lease("mqtt", "node-a", LONG).unwrap(), "the holder renews its lease");
    assert!(store.take_lease("push", "node-b", LONG).unwrap(), "each piece of work has a lease of its own");
    store.release_lease("mqtt", "node-b").unwrap();
    assert!(!store.take_lease("mqtt", "node-b", LONG).unwrap(), "a node that does not hold a lease cannot release it");
    store.release_lease("mqtt", "node-a").unwrap();
    assert!(store.take_lease("mqtt", "node-b", LONG).unwrap(), "a released lease is taken at once");
    assert!(!store.take_lease("mqtt", "node-a", LONG).unwrap(), "and its former holder no longer has it");

    // A lease that ran out by the store's clock goes to the next node that asks.
    assert!(store.take_lease("webhooks", "node-a", Duration::from_millis(1)).unwrap());
    std::thread::sleep(Duration::from_millis(50));
    assert!(store.take_lease("webhooks", "node-b", LONG).unwrap(), "an expired lease is taken by another node");
    assert!(!store.take_lease("webhooks", "node-a", LONG).unwrap(), "the holder whose lease ran out lost it");
}

pub fn the_first_cluster_key_offered_is_the_one_kept(store: &dyn Store) {
    assert_eq!(store.cluster_key("signing").unwrap(), None, "no key before one is offered");
    assert_eq!(store.offer_cluster_key("signing", b"first").unwrap(), b"first");
    assert_eq!(store.offer_cluster_key("signing", b"second").unwrap(), b"first", "a later offer gets the kept key");
    assert_eq!(store.cluster_key("signing").unwrap().as_deref(), Some(&b"first"[..]));
    assert_eq!(store.offer_cluster_key("vapid", b"other").unwrap(), b"other", "each name keeps its own key");
}
