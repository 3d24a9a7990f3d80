//! The MQTT channel (docs/mqtt.md): a follower of the durable log that publishes, through any
//! MQTT 3.1.1 broker, what sirens, LED maps and smart homes listen for.
//!
//! - [`topics`]: the topic names and the retained documents (region states, per-kind states);
//! - [`discovery`]: Home Assistant MQTT discovery, one `binary_sensor` per region and kind;
//! - [`siren`]: signed, numbered, short-lived siren commands and the checks a controller makes;
//! - [`publisher`]: the follower itself: strictly in sequence order, its cursor moved only after
//!   the broker's PUBACK, every retained document published again after each (re)connect.
//!
//! Invariant: exercises and tests appear in `events` with their status and never change a
//! retained state, an oblast string or a siren.

mod acks;
pub mod controller;
pub mod discovery;
pub mod options;
pub mod publisher;
pub mod siren;
mod status;
pub mod topics;

#[cfg(test)]
mod fixture;

pub use options::MqttSettings;
pub use publisher::Publisher;
/// The MQTT client this channel uses, for tools and tests that subscribe the same way.
pub use rumqttc;
pub use siren::{Refusal, SirenAction, SirenCommand, SirenGuard, Sirens};
pub use status::MqttStatus;
pub use topics::{KindStateMessage, RegionStateMessage, Topics};
