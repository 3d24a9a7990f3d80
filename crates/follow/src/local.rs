//! The in-process source: the engine's broadcast of committed events, caught up from its log.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};

use tokio::sync::broadcast;
use tryvoha_core::{Event, Seq};

use crate::reader::{LogReader, ReadError};
use crate::source::{EventSource, Follow, FollowError};

/// How many log events a follower reads at once while catching up.
const CATCH_UP_PAGE: usize = 500;

/// Follows the engine in this process. It holds the log and the broadcast weakly: a follower
/// never keeps the engine alive, and every stream ends once the engine is gone (its broadcast
/// closes), which is how the tasks that follow it end.
pub struct LocalSource {
    log: Weak<dyn LogReader>,
    committed: broadcast::WeakSender<Arc<Event>>,
}

impl LocalSource {
    /// `committed` must carry every event of `log`, in sequence order, each sent only after it
    /// is durable (and so readable from `log`).
    pub fn new(log: Weak<dyn LogReader>, committed: broadcast::WeakSender<Arc<Event>>) -> LocalSource {
        LocalSource { log, committed }
    }
}

impl EventSource for LocalSource {
    fn head(&self) -> Seq {
        self.log.upgrade().map_or(0, |log| log.book().last_seq())
    }

    fn follow(&self, after: Seq) -> Follow {
        // Registered here, before anything is read: an event committed from now on is in the
        // live queue, in the log read below, or both (and then dropped by sequence number).
        let Some(live) = self.committed.upgrade().map(|sender| sender.subscribe()) else {
            return Box::pin(futures_util::stream::empty());
        };
        let following = Following {
            log: self.log.clone(),
            live,
            last: after,
            catching_up: true,
            page: VecDeque::new(),
            lagged: None,
            ended: false,
        };
        Box::pin(futures_util::stream::unfold(following, |mut following| async move {
            following.next().await.map(|item| (item, following))
        }))
    }
}

struct Following {
    log: Weak<dyn LogReader>,
    live: broadcast::Receiver<Arc<Event>>,
    /// The last sequence number yielded (or the resume point).
    last: Seq,
    /// True while the log may hold events after `last` that the live queue does not.
    catching_up: bool,
    page: VecDeque<Event>,
    /// Set when the live queue dropped events for this follower, until the next one shows
    /// whether any of them was still due.
    lagged: Option<u64>,
    ended: bool,
}

impl Following {
    async fn next(&mut self) -> Option<Result<Arc<Event>, FollowError>> {
        while !self.ended {
            if let Some(event) = self.page.pop_front() {
                if event.seq() > self.last {
                    self.last = event.seq();
                    return Some(Ok(Arc::new(event)));
                }
                continue;
            }
            if self.catching_up {
                if let Err(error) = self.read_page().await {
                    return self.end(error);
                }
                continue;
            }
            match self.live.recv().await {
                Ok(event) => {
                    // After a lag the queue resumes at its oldest event: if that is past the
                    // next one due, events were dropped that the log was not read for.
                    if let Some(missed) = self.lagged.take()
                        && event.seq() > self.last + 1
                    {
                        return self.end(FollowError::Lagged { after: self.last, missed });
                    }
                    if event.seq() == self.last + 1 {
                        self.last = event.seq();
                        return Some(Ok(event));
                    }
                    // A gap with no lag (a source that lost an event): the log has the missing
                    // ones, and this one again. An older event was already read from the log.
                    self.catching_up = event.seq() > self.last;
                }
                // The dropped events may all be ones already read from the log (a catch-up
                // that ran while they queued): the next event received tells.
                Err(broadcast::error::RecvError::Lagged(missed)) => self.lagged = Some(missed),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
        None
    }

    /// A short page is the end of the log as of this read: every later event is in the live
    /// queue (registered before reading), so live events take over rather than one more read.
    async fn read_page(&mut self) -> Result<(), FollowError> {
        let after = self.last;
        let Some(log) = self.log.upgrade() else {
            return Err(FollowError::Log { after, source: ReadError::Closed });
        };
        let events =
            log.events_after(after, CATCH_UP_PAGE).await.map_err(|source| FollowError::Log { after, source })?;
        self.catching_up = events.len() == CATCH_UP_PAGE;
        self.page.extend(events);
        Ok(())
    }

    /// A log that closed means the engine stopped: the stream just ends, as the broadcast does.
    fn end(&mut self, error: FollowError) -> Option<Result<Arc<Event>, FollowError>> {
        self.ended = true;
        match error {
            FollowError::Log { source: ReadError::Closed, .. } => None,
            error => Some(Err(error)),
        }
    }
}
