//! Live delivery: the hub that fans committed events out to subscribers, the per-connection
//! feed that joins catch-up from the log with the live queue without gap or duplicate, event
//! signatures (each event signed once, its frame shared by the fan-out and catch-up), and the
//! delivery metrics.
//!
//! It follows the engine only through the `tryvoha_follow` seams: the hub through an
//! `EventSource`, a feed's catch-up and snapshot through a `LogReader`.
//!
//! Transports (SSE and WebSocket in `tryvoha-http`) only write the frames a [`Feed`] yields;
//! everything that decides *which* frames, in what order, lives here.
//!
//! Invariant: a subscriber sees strictly increasing sequence numbers. It registers with the hub
//! before it reads the log, and reads the log up to where its queue starts (the hub's point at
//! registering), so every event is either in what it reads or in its queue (or both, and then
//! the duplicate is dropped by sequence number). A subscriber that falls behind
//! is cut off, never skipped past an event: its feed ends and it resumes by its last id.

mod catch_up;
mod fan_out_tally;
mod feed;
mod filter;
mod frame;
mod frame_cache;
mod hub;
mod metrics;
mod signer;
pub mod sse;
mod tap;
pub mod websocket;

pub use catch_up::{CatchUpReads, Page, QueueStart};
pub use feed::{Feed, FeedError, Resume};
pub use filter::Filter;
pub use frame::Frame;
pub use frame_cache::{FRAME_CACHE_EVENTS, FrameCache};
pub use hub::{BATCH_EVENTS, Hub};
pub use metrics::{Metrics, Transport};
pub use signer::{
    DEFAULT_AUTHORITY, PublicKey, SignatureError, Signer, verify_detached, verify_signed_json, write_private_key_file,
};
pub use tap::Outlet;
