//! Cluster mode beside the shared PostgreSQL log (docs/DEPLOYMENT.md): `lease`, so that work
//! meant to run once (the MQTT publisher, the webhook and Web Push senders) runs on one node at
//! a time and moves to another within seconds when that node dies; and `bus`, the NATS
//! JetStream subject that carries each committed event to the other nodes at once; and
//! `reread`, the loop that reads again what other nodes change beside the log.
//!
//! Neither is a source of truth: a lease guards at-least-once work whose cursors are in the
//! store, and the bus is a wake-up whose every gap (a lost message, NATS down) is read from the
//! log. PostgreSQL is the one durable, ordered record.

pub mod bus;
pub mod lease;
pub mod reread;

pub use bus::{Bus, BusStatus};
pub use lease::{LEASE_TTL, LeaseStatus, Singleton};
pub use reread::reread_every;

/// A name for this node among the holders of leases: host, process and start time, so that a
/// node restarted on the same host is another holder (its predecessor's lease runs out).
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|name| name.trim().to_owned()).unwrap_or_default();
    let started =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_micros());
    format!("{}:{}:{started}", if host.is_empty() { "node" } else { &host }, std::process::id())
}
