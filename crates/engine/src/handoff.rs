//! Who decides a request's fate once it runs out of time: the caller's time limit, or the engine.
//!
//! A transport that answers "timed out" (HTTP 408) promises that nothing was applied. That is
//! only true if the engine has not begun applying the request, and the two sides decide this on
//! different threads. So each timed request carries a [`Handoff`]: the engine *takes* it just
//! before it applies anything (the writer before it decides a command, a token change before it
//! writes), and the time limit may *give up* only while nobody took it. Exactly one of the two
//! wins; a request the engine took is answered however long it takes, one the time limit gave
//! up on is never applied.
//!
//! The handoff travels with the request's task (a task-local set by [`Handoff::scope`]), so
//! handlers need not pass it along: [`crate::Engine::execute`] picks it up.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

const WAITING: u8 = 0;
const TAKEN: u8 = 1;
const GIVEN_UP: u8 = 2;

tokio::task_local! {
    static CURRENT: Arc<Handoff>;
}

#[derive(Debug, Default)]
pub struct Handoff {
    state: AtomicU8,
}

impl Handoff {
    pub fn new() -> Arc<Handoff> {
        Arc::new(Handoff::default())
    }

    /// Runs `request` with this handoff attached to every command it sends to the engine.
    pub async fn scope<F: Future>(self: Arc<Handoff>, request: F) -> F::Output {
        CURRENT.scope(self, request).await
    }

    /// The time limit's side: true when the engine has taken none of the request's commands,
    /// and now never will. False when the engine already took one: the request must then be
    /// left to finish and be answered.
    pub fn give_up(&self) -> bool {
        self.state.compare_exchange(WAITING, GIVEN_UP, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// What a write beside the engine's writer calls just before it applies anything (the
    /// shelter registry does): takes the current request's handoff, if it has one. False when
    /// its caller was already told it timed out: the write must then not happen.
    pub fn take_current() -> bool {
        current().is_none_or(|handoff| handoff.take())
    }

    /// The engine's side: true when the request may be applied (and from now on will be
    /// answered), false when its caller was already told it timed out.
    pub(crate) fn take(&self) -> bool {
        match self.state.compare_exchange(WAITING, TAKEN, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => true,
            Err(state) => state == TAKEN,
        }
    }
}

/// The handoff of the request running on this task, if it has one.
pub(crate) fn current() -> Option<Arc<Handoff>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Takes the current request's handoff, if any: false when its caller already gave up.
pub(crate) fn take_current() -> bool {
    Handoff::take_current()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_taken_the_time_limit_cannot_give_up_and_the_engine_may_take_again() {
        let handoff = Handoff::new();
        assert!(handoff.take());
        assert!(!handoff.give_up());
        assert!(handoff.take(), "a request with several commands takes each");
    }

    #[test]
    fn once_given_up_the_engine_never_takes_it() {
        let handoff = Handoff::new();
        assert!(handoff.give_up());
        assert!(!handoff.take());
    }
}
