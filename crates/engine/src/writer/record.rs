//! Recording an event that is not an alert's (an incident's, a shelter status's): decided on
//! the writer thread against what the store holds, appended alone at the log's next seq, and
//! published as every event is. Such writes are rare beside declarations, so each is a commit
//! of its own; in the log they take their place among the alerts' without a gap.

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::oneshot;
use tryvoha_core::{Actor, Event, Seq};
use tryvoha_store::{Commit, Store, StoreError};

use super::REDECISIONS;
use super::reread::catch_up;
use crate::handoff::Handoff;
use crate::{EngineError, Inner, audit};

/// Decides the event at `seq` from what the store holds at `now`: `Ok(None)` when there is
/// nothing to record (an update that changes nothing).
pub(crate) type Decide = Box<dyn FnMut(&dyn Store, Seq, OffsetDateTime) -> Result<Option<Event>, EngineError> + Send>;

pub(crate) struct RecordJob {
    pub(crate) action: &'static str,
    pub(crate) actor: Actor,
    pub(crate) decide: Decide,
    pub(crate) reply: oneshot::Sender<Result<Option<Event>, EngineError>>,
    /// The caller's time limit's claim on the write (see `handoff`), when it has one.
    pub(crate) handoff: Option<Arc<Handoff>>,
}

/// Decides and appends the job's event; returns the next free sequence number. A job whose
/// caller stopped waiting (gone, or already told it timed out: "not applied") is dropped.
pub(super) fn record(inner: &Inner, mut job: RecordJob, mut next_seq: Seq) -> Seq {
    if job.reply.is_closed() || job.handoff.as_ref().is_some_and(|handoff| !handoff.take()) {
        let error = EngineError::Unavailable(StoreError::Unavailable("the caller stopped waiting".into()));
        refused(&job, &error);
        return next_seq;
    }
    for _ in 0..REDECISIONS {
        let event = match (job.decide)(inner.store.as_ref(), next_seq, inner.clock.now()) {
            Ok(Some(event)) => event,
            outcome => {
                if let Err(error) = &outcome {
                    refused(&job, error);
                }
                let _ = job.reply.send(outcome);
                return next_seq;
            }
        };
        match inner.store.append(&Commit { events: vec![event.clone()], idempotency: Vec::new() }) {
            Ok(()) => return published(inner, job, event),
            // Another node appended first: decided again after what it wrote.
            Err(StoreError::Conflict(_)) => next_seq = catch_up(inner, next_seq),
            Err(error) => return settle(inner, job, event, next_seq, error),
        }
    }
    let error = EngineError::Unavailable(StoreError::Unavailable("other nodes kept writing first".into()));
    refused(&job, &error);
    let _ = job.reply.send(Err(error));
    next_seq
}

fn published(inner: &Inner, job: RecordJob, event: Event) -> Seq {
    let mut book = (*inner.current_book()).clone();
    book.apply_event(&event);
    inner.replace_book(book);
    let seq = event.seq();
    tracing::info!(
        target: audit::TARGET,
        token = job.actor.token_id,
        name = %job.actor.name,
        action = job.action,
        region = event.region_id().0,
        event = event.name(),
        seq,
        "write applied"
    );
    // No subscriber is not an error: the log keeps the event for them.
    let _ = inner.committed.send(Arc::new(event.clone()));
    let _ = job.reply.send(Ok(Some(event)));
    seq + 1
}

/// An append that failed may have landed (a lost answer): the log has the last word, read as
/// other nodes' events are, and the caller is told it was written only if its event is there.
fn settle(inner: &Inner, job: RecordJob, event: Event, seq: Seq, error: StoreError) -> Seq {
    tracing::error!(%error, seq, "an append failed; checking what the log holds");
    let landed = matches!(inner.store.events_after(seq - 1, 1).as_deref(), Ok([stored]) if same_write(stored, &event));
    let next_seq = catch_up(inner, seq);
    if landed && next_seq > seq {
        tracing::warn!(seq, "the failed append had landed after all; answering it as written");
        let _ = job.reply.send(Ok(Some(event)));
    } else {
        let error = EngineError::Unavailable(error);
        refused(&job, &error);
        let _ = job.reply.send(Err(error));
    }
    next_seq
}

/// Whether the event read back at our seq is the one we wrote: the same kind, time, actor and
/// subject (coordinates are not compared: a float need not come back bit for bit from JSON).
fn same_write(stored: &Event, ours: &Event) -> bool {
    let subject = |event: &Event| match event {
        Event::Alert(event) => event.alert.id.0,
        Event::Incident(event) => event.incident.id.0,
        Event::Shelter(event) => event.shelter.shelter_id.0,
    };
    stored.seq() == ours.seq()
        && stored.name() == ours.name()
        && stored.at() == ours.at()
        && stored.actor() == ours.actor()
        && subject(stored) == subject(ours)
}

fn refused(job: &RecordJob, error: &EngineError) {
    tracing::warn!(
        target: audit::TARGET,
        token = job.actor.token_id,
        name = %job.actor.name,
        action = job.action,
        reason = %error,
        "write refused"
    );
}
