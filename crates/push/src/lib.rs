//! Web Push (RFC 8030 delivery, RFC 8291 aes128gcm, RFC 8292 VAPID) and UnifiedPush, which
//! takes the same requests.
//!
//! This crate holds the parts of issue #13 built so far: the server's VAPID key ([`vapid`]), the
//! checks a subscription must pass ([`subscription`]), and one message, encrypted, signed and
//! with its headers ([`message`]); subscriptions are kept by the store (`PushStore`). The sender that follows the log, the API and the web page's part come next;
//! until they do, nothing is exposed to users.

pub mod message;
pub mod subscription;
pub mod vapid;

pub use message::{Message, Urgency};
pub use subscription::{EndpointPolicy, Refused, SubscriptionRequest};
pub use vapid::VapidKey;
