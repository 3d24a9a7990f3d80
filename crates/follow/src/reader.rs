//! Reading the durable log and the state folded from it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tryvoha_core::{AlertBook, Event, Seq};

/// A read of the log in flight. Boxed so that `dyn LogReader` can be shared.
pub type ReadFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ReadError>> + Send + 'a>>;

/// What a follower may read: never write. The engine implements it over its store and book; a
/// cluster node would over PostgreSQL and its own book.
pub trait LogReader: Send + Sync {
    /// Up to `limit` committed events after `after`, in sequence order. A page shorter than
    /// `limit` is the end of the log as of this read.
    fn events_after(&self, after: Seq, limit: usize) -> ReadFuture<'_, Vec<Event>>;

    /// The sequence number of the newest durable event (0 while the log is empty).
    fn head(&self) -> ReadFuture<'_, Seq>;

    /// The current state: a shared snapshot, the fold of the log up to its `last_seq`, that later
    /// commits do not change.
    fn book(&self) -> Arc<AlertBook>;
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the event log is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The log's owner stopped (the engine is gone): there is nothing more to read.
    #[error("the event log is closed")]
    Closed,
}
