//! The single writer. It takes every waiting request at once (group commit: one transaction,
//! one fsync, many answers), decides each against a working copy of the book, writes the events,
//! and only after the commit publishes the new book and the events and answers the callers.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};

use tokio::sync::{mpsc, oneshot, watch};
use tryvoha_core::{Alert, AlertId, Command, Decision, Event, EventType, Seq, changed_fields};
use tryvoha_store::{Commit, IdempotencyRecord, StoreError};

mod record;
mod reread;

pub(crate) use self::record::{Decide, RecordJob};
pub(crate) use self::reread::catch_up;
use self::reread::{answer, answer_failed, failed, take_offered};
use crate::handoff::Handoff;
use crate::{EngineError, Inner, Outcome, Request, audit};

/// What the writer's queue carries: requests; the word to read what other nodes appended to a
/// shared log; an event another node committed, as the cluster bus brought it; or the word to
/// stop after the ones before it.
pub(crate) enum Message {
    Job(Job),
    CatchUp,
    Offered(Box<Event>),
    /// A change of the times to shelter, or a reread of them (`shelter_times`).
    ShelterTimes(Box<crate::shelter_times::TimesJob>),
    /// An incident's or a shelter status's event to decide and append (`record`).
    Record(Box<RecordJob>),
    Stop,
}

impl Message {
    fn into_job(self) -> Option<Job> {
        match self {
            Message::Job(job) => Some(job),
            Message::CatchUp | Message::Offered(_) | Message::ShelterTimes(_) | Message::Record(_) | Message::Stop => {
                None
            }
        }
    }
}

/// Requests decided together, all or nothing: one request from `execute`, several from
/// `execute_all` (a CAP message over several regions). A refusal of any refuses them all.
pub(crate) struct Job {
    pub requests: Vec<Request>,
    pub reply: oneshot::Sender<Result<Vec<Outcome>, EngineError>>,
    /// The caller's time limit's claim on the request (see `handoff`), when it has one.
    pub handoff: Option<Arc<Handoff>>,
}

impl Job {
    /// False when nobody waits for the answer any more (the caller went away, or its time
    /// limit already answered that it timed out): such a request is dropped, not applied.
    /// Otherwise the request is the writer's from now on and its caller will be answered.
    fn caller_still_waiting(&self) -> bool {
        !self.reply.is_closed() && self.handoff.as_ref().is_none_or(|handoff| handoff.take())
    }
}

/// What the writer thread says about itself: `None` while it runs, then why it stopped.
pub(crate) type WriterLife = watch::Receiver<Option<String>>;

/// The most requests decided and committed together.
const MAX_BATCH: usize = 512;

/// Starts the writer thread. `life` learns when and why it stops: a panic (a bug, or a store
/// that panics) ends the thread, never silently: the server watches `life` and goes down. The
/// thread's own result says the same to whoever joins it: `Err` with why, if it panicked.
pub(crate) fn spawn(
    inner: Weak<Inner>,
    mut jobs: mpsc::Receiver<Message>,
    mut next_seq: Seq,
    life: watch::Sender<Option<String>>,
) -> Result<std::thread::JoinHandle<Result<(), String>>, StoreError> {
    std::thread::Builder::new()
        .name("tryvoha-writer".into())
        .spawn(move || {
            let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let mut batch = Vec::with_capacity(MAX_BATCH);
                // Ends when every Engine handle is gone (the channel closes once Inner drops), or
                // at a stop: after the requests queued before it, which are answered as usual.
                while jobs.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
                    let stop = batch.iter().position(|message| matches!(message, Message::Stop));
                    // Whatever came after the stop is dropped: its callers hear "shutting down".
                    batch.truncate(stop.unwrap_or(batch.len()));
                    let Some(inner) = inner.upgrade() else { return "the engine was dropped" };
                    let mut offered: Vec<Event> = take_out(&mut batch, |message| match message {
                        Message::Offered(event) => Ok(*event),
                        other => Err(other),
                    });
                    if !offered.is_empty() {
                        offered.sort_by_key(|event| event.seq());
                        next_seq = take_offered(&inner, offered, next_seq);
                    }
                    // In their order, before the batch's requests: a declaration queued after a
                    // change's answer carries the change.
                    let times_jobs = take_out(&mut batch, |message| match message {
                        Message::ShelterTimes(job) => Ok(*job),
                        other => Err(other),
                    });
                    for job in times_jobs {
                        let book = inner.current_book();
                        if let Some(times) = crate::shelter_times::run(inner.store.as_ref(), book.shelter_times(), job)
                            && &times != book.shelter_times()
                        {
                            let mut book = (*book).clone();
                            book.set_shelter_times(times);
                            inner.replace_book(book);
                        }
                    }
                    let records = take_out(&mut batch, |message| match message {
                        Message::Record(job) => Ok(*job),
                        other => Err(other),
                    });
                    for job in records {
                        next_seq = record::record(&inner, job, next_seq);
                    }
                    if batch.iter().any(|message| matches!(message, Message::CatchUp)) {
                        next_seq = catch_up(&inner, next_seq);
                    }
                    next_seq = write_batch(&inner, batch.drain(..).filter_map(Message::into_job), next_seq);
                    if stop.is_some() {
                        return "the writer was stopped";
                    }
                }
                "the engine was dropped"
            }));
            let ended = match run {
                Ok(reason) => Ok(reason.to_owned()),
                Err(panic) => {
                    let message = panic_message(panic.as_ref());
                    tracing::error!(panic = %message, "the writer thread panicked; no write can be made from now on");
                    Err(format!("the writer thread panicked: {message}"))
                }
            };
            // Callers waiting in the queue learn it from their dropped reply channels.
            drop(jobs);
            let _ = life.send(Some(ended.clone().unwrap_or_else(|reason| reason)));
            ended.map(|_| ())
        })
        .map_err(|e| StoreError::Unavailable(Box::new(e)))
}

/// Takes out of `batch`, in their order, the messages `pick` claims (`Ok`); the others stay,
/// in theirs.
fn take_out<T>(batch: &mut Vec<Message>, pick: impl Fn(Message) -> Result<T, Message>) -> Vec<T> {
    let mut taken = Vec::new();
    let mut kept = Vec::with_capacity(batch.len());
    for message in batch.drain(..) {
        match pick(message) {
            Ok(item) => taken.push(item),
            Err(message) => kept.push(message),
        }
    }
    *batch = kept;
    taken
}

pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(text), _) => (*text).to_owned(),
        (_, Some(text)) => text.clone(),
        _ => "(no message)".to_owned(),
    }
}

/// The most decisions of one batch: the first, and one more each time another node wrote first
/// (each against the log's new head); then its callers are told the store is unavailable.
pub(super) const REDECISIONS: usize = 8;

/// A job the writer took: its requests kept, so that it can be decided again.
pub(super) struct Taken {
    pub(super) requests: Vec<Request>,
    pub(super) reply: oneshot::Sender<Result<Vec<Outcome>, EngineError>>,
    pub(super) entries: Vec<audit::Entry>,
}

/// Decides and commits one batch; returns the next free sequence number. On a log that other
/// nodes append to, the head may have moved since this node's book: the append is then refused
/// (`Conflict`, nothing written), the writer reads what they appended, and decides the batch
/// again against that, so that two nodes deciding at once never both declare, and an
/// idempotency key used on another node is answered as there.
fn write_batch(inner: &Inner, jobs: impl Iterator<Item = Job>, mut first_seq: Seq) -> Seq {
    let mut taken = Vec::new();
    for job in jobs {
        if !job.caller_still_waiting() {
            job.requests.iter().for_each(audit::dropped);
            continue;
        }
        let Job { requests, reply, .. } = job;
        let entries = requests.iter().map(audit::Entry::of).collect();
        taken.push(Taken { requests, reply, entries });
    }
    if taken.is_empty() {
        return first_seq;
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (working, commit, decided) = decide_batch(inner, &taken, first_seq);
        if commit.events.is_empty() {
            // Nothing to append that the store checks against its head (refusals, unchanged
            // alerts, at most keys): these answers come from this node's book, so they are
            // given only if no other node appended since it; otherwise decided again.
            let caught_up = catch_up(inner, first_seq);
            if caught_up > first_seq && attempt < REDECISIONS {
                first_seq = caught_up;
                continue;
            }
            if commit.idempotency.is_empty() {
                answer(taken, decided);
                return caught_up;
            }
        }
        let written = commit.events.len() as Seq;
        let error = match inner.store.append(&commit) {
            Ok(()) => {
                inner.replace_book(working);
                for event in commit.events {
                    // No subscriber is not an error: the log keeps the event for them.
                    let _ = inner.committed.send(Arc::new(event));
                }
                answer(taken, decided);
                return first_seq + written;
            }
            Err(error) => error,
        };
        if matches!(error, StoreError::Conflict(_)) {
            // Another node appended first (or recorded the same key): decided again against
            // what it wrote.
            let caught_up = catch_up(inner, first_seq);
            if attempt < REDECISIONS {
                tracing::info!(first_seq, next_seq = caught_up, "another node wrote first; deciding again");
                first_seq = caught_up;
                continue;
            }
            let error = StoreError::Unavailable("other nodes kept writing first".into());
            answer_failed(taken, decided, &error);
            return caught_up;
        }
        return failed(inner, taken, decided, commit, first_seq, &error);
    }
}

/// The batch decided against the current book: the book after it, the commit, and each job's
/// outcome (its refusal stays its own: the other jobs are decided as if it had not come).
fn decide_batch(
    inner: &Inner,
    taken: &[Taken],
    first_seq: Seq,
) -> (tryvoha_core::AlertBook, Commit, Vec<Result<Vec<Outcome>, EngineError>>) {
    let mut working = (*inner.current_book()).clone();
    let now = inner.clock.now();
    let mut commit = Commit::default();
    let mut keys_in_batch: HashMap<(String, String), IdempotencyRecord> = HashMap::new();
    let decided = taken
        .iter()
        .map(|job| {
            decide_all(inner, &mut working, &mut commit, &mut keys_in_batch, job.requests.clone(), now, first_seq)
        })
        .collect();
    (working, commit, decided)
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
        // Only a key new to this batch is this job's to take back on a refusal.
        let key = request
            .idempotency
            .as_ref()
            .map(|k| (k.owner.clone(), k.key.clone()))
            .filter(|key| !keys_in_batch.contains_key(key));
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
            None => inner.store.idempotency_for_writer(&key.owner, &key.key).map_err(EngineError::Unavailable)?,
        };
        if let Some(record) = earlier {
            if record.fingerprint != key.fingerprint {
                return Err(EngineError::IdempotencyKeyReused);
            }
            let alert = as_written(inner, working, commit, record.alert_id)?
                .ok_or(EngineError::Unavailable(StoreError::NotFound))?;
            return Ok(Outcome { alert, created: record.created, event: None, changed: Vec::new() });
        }
    }
    // A reinstatement names an alert that has finished: the book no longer holds it, the log does.
    let recorded = match request.command {
        Command::Reinstate { id } => as_written(inner, working, commit, id)?,
        _ => None,
    };
    // An unknown region is the domain's error to report (it names the field), not a scope one.
    if let Some(region) = request.command.region(working).or(recorded.as_ref().map(|alert| alert.region_id))
        && inner.registry.get(region).is_some()
        && !request.grant.may_alert(region, &inner.registry)
    {
        return Err(EngineError::OutOfScope { region });
    }
    let decision = match request.command {
        Command::Reinstate { id } => working.decide_reinstate(id, recorded.as_ref(), &request.actor, now)?,
        _ => working.decide(&request.command, &request.actor, now)?,
    };
    let outcome = match decision {
        Decision::Unchanged(alert) => Outcome { alert, created: false, event: None, changed: Vec::new() },
        Decision::Record(draft) => {
            let changed = match (draft.kind, working.get(draft.alert.id)) {
                (EventType::Updated, Some(before)) => changed_fields(before, &draft.alert),
                _ => Vec::new(),
            };
            let event = draft.into_event(first_seq + commit.events.len() as Seq);
            working.apply(&event);
            commit.events.push(event.clone().into());
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

/// Alert `id` as this batch leaves it: active in the working book, or as the batch's own events
/// (not yet committed) or else the log last recorded it.
fn as_written(
    inner: &Inner,
    working: &tryvoha_core::AlertBook,
    commit: &Commit,
    id: AlertId,
) -> Result<Option<Alert>, EngineError> {
    if let Some(alert) = working.get(id) {
        return Ok(Some(alert.clone()));
    }
    if let Some(event) = commit.events.iter().rev().filter_map(Event::as_alert).find(|event| event.alert.id == id) {
        return Ok(Some(event.alert.clone()));
    }
    inner.store.alert_for_writer(id).map_err(EngineError::Unavailable)
}
