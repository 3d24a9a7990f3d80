//! Following committed events from a resume point.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::Stream;
use tryvoha_core::{Event, Seq};

use crate::reader::ReadError;

/// The events after a resume point, one by one: `Some(Ok(event))` with `event.seq()` one more than
/// the last, `Some(Err(_))` once and then the end, or the end when the source stopped.
pub type Follow = Pin<Box<dyn Stream<Item = Result<Arc<Event>, FollowError>> + Send>>;

/// Where committed events come from.
pub trait EventSource: Send + Sync {
    /// The newest sequence number already published: following after it yields only what is
    /// committed from now on.
    fn head(&self) -> Seq;

    /// Every committed event after `after`, in sequence order: those already in the log first,
    /// then live ones as they are committed, with no gap and no duplicate. The follower is
    /// registered for live events before this returns, so nothing committed after the call
    /// can be missed whatever the stream's first poll finds in the log.
    fn follow(&self, after: Seq) -> Follow;
}

/// Why a [`Follow`] ended early. Either way the follower follows again after `after`, the last
/// sequence number the stream yielded (or its resume point), and catches up from the log.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// Live events came faster than the follower took them, and the source had to drop some
    /// for it rather than wait.
    #[error("the follower fell {missed} events behind the live ones after {after}")]
    Lagged { after: Seq, missed: u64 },
    #[error("cannot read the log after {after}")]
    Log {
        after: Seq,
        #[source]
        source: ReadError,
    },
}

impl FollowError {
    /// The last sequence number delivered before the stream ended: the place to follow again.
    pub fn after(&self) -> Seq {
        match self {
            FollowError::Lagged { after, .. } | FollowError::Log { after, .. } => *after,
        }
    }
}
