//! What the APIs Ukrainian apps, bots, LED maps and Home Assistant already speak say about the
//! current state: alerts.in.ua v1 (and the v2 IoT strings) and ukrainealarm v3. Wire formats
//! and the quirks of their real clients: docs/compat.md.
//!
//! Pure computations over the [`AlertBook`](tryvoha_core::AlertBook), the registry and history
//! records: no I/O, no HTTP. Who may read them, the status codes, caching headers and routes
//! are the transport's (`tryvoha-http`); so any other channel (MQTT, webhooks, a web map) can
//! publish the same strings and documents.
//!
//! These APIs cannot say "this is a drill", so only alerts with status `actual` appear in them
//! ([`is_real`]).

mod air_raid;
pub mod alerts_in_ua;
#[cfg(test)]
mod fixture;
pub mod ukrainealarm;
mod wire_time;

pub use air_raid::{AirRaid, IotVersion, is_real};
