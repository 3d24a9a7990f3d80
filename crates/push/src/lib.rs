//! Web Push (RFC 8030 delivery, RFC 8291 aes128gcm, RFC 8292 VAPID) and UnifiedPush, which
//! takes the same requests.
//!
//! - [`vapid`]: the server's VAPID key;
//! - [`subscription`]: the checks a subscription must pass, each naming its field;
//! - [`service`]: the subscriptions (the store's `PushStore`, indexed by region), subscribing
//!   and unsubscribing;
//! - [`message`]: one message, encrypted, VAPID-signed, with `TTL`, `Urgency` and `Topic`;
//! - `progress`: what each subscription's push service accepted, so a restart sends nothing twice;
//! - [`sender`]: the follower of the log (cursor `push`) that sends them; `reach`: its HTTP
//!   clients and the address check; `status`: its counts for `/metrics`.

pub mod message;
mod progress;
mod reach;
pub mod sender;
pub mod service;
mod status;
pub mod subscription;
pub mod vapid;

pub use message::{Message, Urgency};
pub use sender::{PushStatus, Sender};
pub use service::{PushError, Subscriptions};
pub use subscription::{EndpointPolicy, Refused, SubscriptionRequest};
pub use vapid::VapidKey;
/// The Web Push implementation used, for tests and tools that decrypt as a browser would.
pub use web_push_native;
