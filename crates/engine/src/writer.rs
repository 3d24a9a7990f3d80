//! The single writer. It takes every waiting request at once (group commit: one transaction,
//! one fsync, many answers), decides each against a working copy of the book, writes the events,
//! and only after the commit publishes the new book and the events and answers the callers.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use tokio::sync::{mpsc, oneshot};
use tryvoha_core::{Decision, EventType, Seq, changed_fields};
use tryvoha_store::{Commit, IdempotencyRecord, StoreError};

use crate::{EngineError, Inner, Outcome, Request};

/// Requests decided together, all or nothing: one request from `execute`, several from
/// `execute_all` (a CAP message over several regions). A refusal of any refuses them all.
pub(crate) struct Job {
    pub requests: Vec<Request>,
    pub reply: oneshot::Sender<Result<Vec<Outcome>, EngineError>>,
}

/// The most requests decided and committed together.
const MAX_BATCH: usize = 512;

pub(crate) fn spawn(inner: Weak<Inner>, mut jobs: mpsc::Receiver<Job>, mut next_seq: Seq) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name("tryvoha-writer".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            // Ends when every Engine handle is gone: the channel closes once Inner drops.
            while jobs.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
                match inner.upgrade() {
                    Some(inner) => next_seq = write_batch(&inner, batch.drain(..), next_seq),
                    None => return,
                }
            }
        })
        .map(|_| ())
        .map_err(|e| StoreError::Unavailable(Box::new(e)))
}

/// Decides and commits one batch; returns the next free sequence number.
fn write_batch(inner: &Inner, jobs: impl Iterator<Item = Job>, first_seq: Seq) -> Seq {
    let mut working = (*inner.current_book()).clone();
    let now = inner.clock.now();
    let mut commit = Commit::default();
    let mut waiting = Vec::new();
    let mut keys_in_batch: HashMap<(String, String), IdempotencyRecord> = HashMap::new();
    for Job { requests, reply } in jobs {
        let answer = decide_all(inner, &mut working, &mut commit, &mut keys_in_batch, requests, now, first_seq);
        match answer {
            // Successes wait for the commit; refusals can be told at once.
            Ok(outcome) => waiting.push((reply, outcome)),
            Err(error) => drop(reply.send(Err(error))),
        }
    }
    if commit.events.is_empty() && commit.idempotency.is_empty() {
        for (reply, outcome) in waiting {
            let _ = reply.send(Ok(outcome));
        }
        return first_seq;
    }
    let written = commit.events.len() as Seq;
    match inner.store.append(&commit) {
        Ok(()) => {
            inner.replace_book(working);
            for event in commit.events {
                // No subscriber is not an error: the log keeps the event for them.
                let _ = inner.committed.send(Arc::new(event));
            }
            for (reply, outcome) in waiting {
                let _ = reply.send(Ok(outcome));
            }
            first_seq + written
        }
        Err(error) => {
            tracing::error!(error = %error, source = ?std::error::Error::source(&error), "commit failed; nothing was written");
            let message = error.to_string();
            for (reply, _) in waiting {
                let _ = reply.send(Err(EngineError::Unavailable(StoreError::Unavailable(message.clone().into()))));
            }
            first_seq
        }
    }
}

/// Decides a job's requests in order against the working book. If one is refused, the book,
/// the commit and the batch's keys are put back as they were before the job: its other
/// requests leave no trace. (A single request needs no undo: a refused decision changes
/// nothing, so the book is copied only for a job of several.)
fn decide_all(
    inner: &Inner,
    working: &mut tryvoha_core::AlertBook,
    commit: &mut Commit,
    keys_in_batch: &mut HashMap<(String, String), IdempotencyRecord>,
    requests: Vec<Request>,
    now: time::OffsetDateTime,
    first_seq: Seq,
) -> Result<Vec<Outcome>, EngineError> {
    let undo = (requests.len() > 1).then(|| (working.clone(), commit.events.len(), commit.idempotency.len()));
    let mut outcomes = Vec::with_capacity(requests.len());
    let mut keys_added = Vec::new();
    for request in requests {
        let key = request.idempotency.as_ref().map(|k| (k.owner.clone(), k.key.clone()));
        match decide(inner, working, commit, keys_in_batch, request, now, first_seq) {
            Ok(outcome) => {
                keys_added.extend(key);
                outcomes.push(outcome);
            }
            Err(error) => {
                if let Some((book, events, records)) = undo {
                    *working = book;
                    commit.events.truncate(events);
                    commit.idempotency.truncate(records);
                    for key in &keys_added {
                        keys_in_batch.remove(key);
                    }
                }
                return Err(error);
            }
        }
    }
    Ok(outcomes)
}

fn decide(
    inner: &Inner,
    working: &mut tryvoha_core::AlertBook,
    commit: &mut Commit,
    keys_in_batch: &mut HashMap<(String, String), IdempotencyRecord>,
    request: Request,
    now: time::OffsetDateTime,
    first_seq: Seq,
) -> Result<Outcome, EngineError> {
    if let Some(key) = &request.idempotency {
        let earlier = match keys_in_batch.get(&(key.owner.clone(), key.key.clone())) {
            Some(record) => Some(record.clone()),
            None => inner.store.idempotency_record(&key.owner, &key.key).map_err(EngineError::Unavailable)?,
        };
        if let Some(record) = earlier {
            if record.fingerprint != key.fingerprint {
                return Err(EngineError::IdempotencyKeyReused);
            }
            let alert = match working.get(record.alert_id) {
                Some(alert) => alert.clone(),
                None => inner
                    .store
                    .alert(record.alert_id)
                    .map_err(EngineError::Unavailable)?
                    .ok_or(EngineError::Unavailable(StoreError::NotFound))?,
            };
            return Ok(Outcome { alert, created: record.created, event: None, changed: Vec::new() });
        }
    }
    // An unknown region is the domain's error to report (it names the field), not a scope one.
    if let Some(region) = request.command.region(working)
        && inner.registry.get(region).is_some()
        && !request.grant.may_alert(region, &inner.registry)
    {
        return Err(EngineError::OutOfScope { region });
    }
    let outcome = match working.decide(&request.command, &request.actor, now)? {
        Decision::Unchanged(alert) => Outcome { alert, created: false, event: None, changed: Vec::new() },
        Decision::Record(draft) => {
            let changed = match (draft.kind, working.get(draft.alert.id)) {
                (EventType::Updated, Some(before)) => changed_fields(before, &draft.alert),
                _ => Vec::new(),
            };
            let event = draft.into_event(first_seq + commit.events.len() as Seq);
            working.apply(&event);
            commit.events.push(event.clone());
            let created = event.kind == EventType::Declared;
            Outcome { alert: event.alert.clone(), created, event: Some(event), changed }
        }
    };
    if let Some(key) = request.idempotency {
        let record = IdempotencyRecord {
            owner: key.owner.clone(),
            key: key.key.clone(),
            fingerprint: key.fingerprint,
            alert_id: outcome.alert.id,
            created: outcome.created,
        };
        keys_in_batch.insert((key.owner, key.key), record.clone());
        commit.idempotency.push(record);
    }
    Ok(outcome)
}
