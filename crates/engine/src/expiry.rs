//! Ends alerts whose `expires_at` has passed, as the server's own actor; and, on the same tick,
//! asks the writer to read what other nodes appended to a shared log.

use std::sync::Weak;
use std::time::Duration;

use tokio::task::JoinHandle;

use tryvoha_core::{Actor, AlertError, Command, Grant};

use crate::{Engine, EngineError, Inner, Request};

/// How often the book is checked for due alerts: expiry is accurate to about this much.
const TICK: Duration = Duration::from_millis(500);

/// Runs until the engine is dropped or its owner aborts it; it holds only a weak handle so that
/// it never keeps the engine (and its writer) alive on its own.
pub(crate) fn spawn(inner: Weak<Inner>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(inner) = inner.upgrade() else { return };
            // On a log other nodes append to, what they appended reaches this node's book and
            // streams at the latest by the next tick (without a bus, this is how nodes follow).
            // A full queue has work that will catch up on its own conflict.
            let _ = inner.jobs.try_send(crate::writer::Message::CatchUp);
            let engine = Engine { inner };
            let due = engine.book().due_to_expire(engine.now());
            for id in due {
                let request = Request {
                    command: Command::Expire { id },
                    actor: Actor::system(),
                    grant: Grant::admin(),
                    idempotency: None,
                };
                match engine.execute(request).await {
                    Ok(_) => tracing::info!(alert = %id, "alert expired"),
                    // Cancelled meanwhile, or its expiry moved: nothing to do.
                    Err(EngineError::Alert(AlertError::AlreadyFinished { .. } | AlertError::NotYetExpired { .. })) => {}
                    Err(error) => {
                        tracing::warn!(alert = %id, %error, "could not expire alert; will retry")
                    }
                }
            }
        }
    })
}
