//! Reading the log back, beside the writer: what other nodes appended to a shared log
//! (`catch_up`, applied and sent out as this node's own events), and what a failed commit left
//! in the log (`failed`), with the answers each outcome calls for.

use std::sync::Arc;

use tryvoha_core::{Event, Seq};
use tryvoha_store::{Commit, StoreError};

use super::Taken;
use crate::{EngineError, Inner, Outcome};

/// An append that failed for another reason than another node's: it may have landed though it
/// reported failure (a lost connection, an fsync error after the write), so the log is trusted,
/// not the error, or every later append would conflict. Whatever is in the log past this
/// node's head, this commit's events or others', reaches the book and the streams by
/// [`catch_up`], as another node's events do; the commit is answered as written when its own
/// events are there where they were to go.
pub(super) fn failed(
    inner: &Inner,
    taken: Vec<Taken>,
    decided: Vec<Result<Vec<Outcome>, EngineError>>,
    commit: Commit,
    first_seq: Seq,
    error: &StoreError,
) -> Seq {
    tracing::error!(error = %error, source = ?std::error::Error::source(error), "commit failed; checking what the log holds");
    let landed = match inner.store.events_after(first_seq - 1, commit.events.len()) {
        Ok(stored) => !commit.events.is_empty() && stored == commit.events,
        Err(reread) => {
            // The next append (a conflict, if the head did move) looks again.
            tracing::error!(error = %reread, "cannot re-read the log; will look again at the next write");
            answer_failed(taken, decided, error);
            return first_seq;
        }
    };
    let next_seq = catch_up(inner, first_seq);
    if landed {
        tracing::warn!(first_seq, next_seq, "the failed commit had landed after all; answering it as written");
        answer(taken, decided);
    } else {
        if next_seq > first_seq {
            tracing::warn!(first_seq, next_seq, "the log moved on unexpectedly; read what it holds");
        }
        answer_failed(taken, decided, error);
    }
    next_seq
}

/// After a failed append: a refusal is still its job's answer (it wrote nothing either way);
/// every decision that was to be written is answered unavailable.
pub(super) fn answer_failed(taken: Vec<Taken>, decided: Vec<Result<Vec<Outcome>, EngineError>>, error: &StoreError) {
    let (refused, unwritten): (Vec<_>, Vec<_>) =
        taken.into_iter().zip(decided).partition(|(_, outcome)| outcome.is_err());
    let (refused_jobs, refusals): (Vec<_>, Vec<_>) = refused.into_iter().unzip();
    answer(refused_jobs, refusals);
    answer_unavailable(unwritten.into_iter().map(|(job, _)| job).collect(), error);
}

/// What other nodes appended to the log since this node's head (`next_seq - 1`): read, applied
/// to the book and sent out in order, as this node's own events are, so that every node's book
/// and streams follow the one log. Returns the next free sequence number. A failed read leaves
/// the rest for the next time.
pub(crate) fn catch_up(inner: &Inner, next_seq: Seq) -> Seq {
    let head = match inner.store.last_seq() {
        Ok(head) => head,
        Err(error) => {
            tracing::warn!(%error, "cannot read the log's head to follow other nodes");
            return next_seq;
        }
    };
    if head < next_seq {
        return next_seq;
    }
    let mut after = next_seq - 1;
    // Page by page, each published before the next is read: a node far behind neither holds
    // the whole backlog nor floods `committed` past what its followers can take at once.
    while after < head {
        let page = match inner.store.events_after(after, 1024) {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%error, after, "cannot read what other nodes appended; later");
                break;
            }
        };
        // The log is gap-free: anything else is read again next time rather than applied.
        let contiguous = page.iter().zip(after + 1..).take_while(|(event, seq)| event.seq() == *seq).count();
        if contiguous == 0 {
            break;
        }
        after = apply_landed(inner, page.into_iter().take(contiguous).collect());
    }
    after + 1
}

/// Events other nodes committed, as the cluster bus brought them (sorted by seq): the ones
/// that follow this node's head without a gap are applied as they are; anything else (a gap,
/// one the bus lost) is read from the log, which has the last word. Returns the next free
/// sequence number.
pub(super) fn take_offered(inner: &Inner, offered: Vec<Event>, next_seq: Seq) -> Seq {
    let newest = offered.last().map_or(0, |event| event.seq());
    let following: Vec<Event> = offered
        .into_iter()
        .skip_while(|event| event.seq() < next_seq)
        .zip(next_seq..)
        .take_while(|(event, seq)| event.seq() == *seq)
        .map(|(event, _)| event)
        .collect();
    let next_seq = if following.is_empty() { next_seq } else { apply_landed(inner, following) + 1 };
    if newest >= next_seq { catch_up(inner, next_seq) } else { next_seq }
}

/// Applies events that follow the book's head, in order, to the book, then sends them out as
/// this node's own are; returns the seq of the last.
fn apply_landed(inner: &Inner, landed: Vec<Event>) -> Seq {
    let mut book = (*inner.current_book()).clone();
    let mut last = book.last_seq();
    for event in &landed {
        book.apply_event(event);
        last = event.seq();
    }
    inner.replace_book(book);
    for event in landed {
        let _ = inner.committed.send(Arc::new(event));
    }
    last
}

/// Each job's answer, once what it decided is durable (or was refused).
pub(super) fn answer(taken: Vec<Taken>, decided: Vec<Result<Vec<Outcome>, EngineError>>) {
    for (job, outcome) in taken.into_iter().zip(decided) {
        match &outcome {
            Ok(outcomes) => job.entries.iter().zip(outcomes).for_each(|(entry, outcome)| entry.applied(outcome)),
            Err(error) => job.entries.iter().for_each(|entry| entry.refused(error)),
        }
        let _ = job.reply.send(outcome);
    }
}

fn answer_unavailable(taken: Vec<Taken>, error: &StoreError) {
    let message = error.to_string();
    for job in taken {
        let error = EngineError::Unavailable(StoreError::Unavailable(message.clone().into()));
        job.entries.iter().for_each(|entry| entry.refused(&error));
        let _ = job.reply.send(Err(error));
    }
}
