//! Webhooks (docs/webhooks.md): each registered endpoint is a follower of the durable log with
//! a cursor of its own. It gets every matching event's signed frame (or ukrainealarm's body), in
//! sequence order, at least once, each POST signed with its secret (HMAC-SHA256); a failing
//! endpoint is retried with back-off for up to the retry window and then paused, and one that
//! answers 410 Gone is removed. Targets are checked against the SSRF policy at registration and
//! at every connection.
//!
//! - [`target`]: which addresses a webhook may reach, and the resolver that enforces it;
//! - [`signature`]: the `Tryvoha-Signature` header;
//! - `sender`: one endpoint's deliveries; [`registry`]: the endpoints and their senders;
//! - [`attempts`]: the recent attempts per endpoint.

pub mod attempts;
mod reach;
pub mod registry;
mod sender;
pub mod signature;
pub mod target;

pub use attempts::Attempt;
pub use registry::{Change, Parts, PauseState, WebhookError, Webhooks};
pub use target::{TargetPolicy, TargetRefusal};

/// reqwest is built without a TLS provider of its own: ring is installed for the process, once
/// (the binary's CLI does the same; whichever is first serves both).
pub fn ensure_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
