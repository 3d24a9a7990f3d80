//! The seam between the engine and everything that follows its committed events: the live hub
//! now, the MQTT, webhook and Web Push channels and a cluster bus next.
//!
//! Two traits, so that a follower needs neither the engine nor the hub:
//! - [`LogReader`]: the durable log and the state folded from it, read-only (pages of events
//!   after a sequence number, the current book, the log's head).
//! - [`EventSource`]: committed events in sequence order from any resume point, caught up from
//!   the log and then live, with no gap and no duplicate ([`Follow`]).
//!
//! [`LocalSource`] is the first source: the engine's in-process broadcast, caught up from its
//! log. A cluster bus (events from NATS JetStream, gaps read from PostgreSQL) is another.
//! This crate does not decide, store or deliver anything; it knows no transport.
//!
//! Invariant: a [`Follow`] yields strictly `after + 1, after + 2, …`; when it cannot (the
//! follower lagged behind the live events, or the log could not be read) it says so and ends,
//! and the follower follows again from the last sequence number it finished. Never a silent skip.

mod cursors;
mod local;
mod reader;
mod source;

pub use cursors::CursorKeeper;
pub use local::LocalSource;
pub use reader::{LogReader, ReadError, ReadFuture};
pub use source::{EventSource, Follow, FollowError};
