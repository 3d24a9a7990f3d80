//! Moving a deployment from one store to another with every id kept (`tryvoha migrate`, from
//! the embedded database to PostgreSQL): what a store must give up ([`Export`]) and take in
//! ([`Restore`]) beyond the other traits, and [`transfer`], which copies and then proves the
//! copy by reading both stores back.
//!
//! A transfer may be run again: each step adds only what the target lacks, so a second run adds
//! nothing, and a run cut short is finished by the next. What the target holds that the source
//! does not (another deployment's log, a token of the same id but another name) is found before
//! anything is written where it can be (the log, the keys), and by the verification otherwise.

use tryvoha_core::{Event, Seq, Shelter};

use crate::{
    Commit, HistoryRecord, IdempotencyRecord, PushSubscription, Store, StoreError, TokenRecord, WebhookRecord,
};

/// What a store gives up for a transfer, beside what its other traits read.
pub trait Export: Store {
    /// Every idempotency record, by owner and key.
    fn idempotency_records(&self) -> crate::StoreResult<Vec<IdempotencyRecord>>;
    /// Every stored cursor, by consumer.
    fn cursors(&self) -> crate::StoreResult<Vec<(String, Seq)>>;
    /// Every history record (live and imported) with its import key, by id, those with an id
    /// above `after`; at most `limit`.
    fn history_rows(&self, after: u64, limit: usize) -> crate::StoreResult<Vec<HistoryRow>>;
    /// Whether the bundled shelters were ever seeded ([`crate::ShelterStore::seed_shelters_once`]).
    fn shelters_seeded(&self) -> crate::StoreResult<bool>;
    /// The highest id each table has ever given, removed rows included.
    fn id_marks(&self) -> crate::StoreResult<IdMarks>;
}

/// The highest id each table with store-made ids has ever given (0: none yet). A removed row's
/// id is never given again, so a target takes over these marks, not only its rows' highest ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdMarks {
    pub tokens: u64,
    pub shelters: u64,
    pub webhooks: u64,
    pub push_subscriptions: u64,
}

/// Writes that keep the ids they are given, for a store being filled from another. Each writes
/// the rows whose id (or key) it does not hold yet and those it holds otherwise (the source
/// changed since an earlier run: a token revoked, a cursor moved on), all in one transaction,
/// leaves those it holds the same, and returns how many it wrote. Later ids the store makes
/// itself follow the highest restored.
pub trait Restore: Export {
    /// Makes every table's next id follow `marks` (never moving one back).
    fn restore_id_marks(&self, marks: &IdMarks) -> crate::StoreResult<()>;
    fn restore_tokens(&self, tokens: &[TokenRecord]) -> crate::StoreResult<usize>;
    /// The shelters, and the mark that the bundled ones were seeded when `seeded`.
    fn restore_shelters(&self, shelters: &[Shelter], seeded: bool) -> crate::StoreResult<usize>;
    fn restore_webhooks(&self, webhooks: &[WebhookRecord]) -> crate::StoreResult<usize>;
    fn restore_push_subscriptions(&self, subscriptions: &[PushSubscription]) -> crate::StoreResult<usize>;
    fn restore_cursors(&self, cursors: &[(String, Seq)]) -> crate::StoreResult<usize>;
    fn restore_idempotency(&self, records: &[IdempotencyRecord]) -> crate::StoreResult<usize>;
    /// History records with their ids and keys. The log's events make the live records again
    /// as they are appended, but the source's are the record (an older database kept some to
    /// the second only), so they are written over those.
    fn restore_history(&self, rows: &[HistoryRow]) -> crate::StoreResult<usize>;
}

/// A history record as a store keeps it: with the key of the file row it was imported from,
/// none for a live one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    pub record: HistoryRecord,
    pub import_key: Option<String>,
}

/// How many rows of one kind the source holds and how many a transfer wrote to the target
/// (added, or changed to the source's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copied {
    pub table: &'static str,
    pub source: usize,
    pub written: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The target's log is not a beginning of the source's: it belongs to another deployment,
    /// or served writes of its own. Nothing was written.
    #[error("the target's log is not this deployment's: its event {seq} differs from the source's")]
    ForeignLog { seq: Seq },
    #[error(
        "the target's log is ahead of the source's ({target_head} events, the source has {source_head}): it served \
         writes of its own"
    )]
    TargetAhead { source_head: Seq, target_head: Seq },
    /// After the copy the target does not hold what the source does: it holds rows the source
    /// has not (removed there since an earlier run, or another deployment's).
    #[error(
        "{table} differ after the copy ({in_source} in the source, {in_target} in the target){detail}; the target \
         holds rows the source has not: drop its schema (or choose another cluster name) and run it again"
    )]
    Differs { table: &'static str, in_source: usize, in_target: usize, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Events per append, and history records per page.
const BATCH: usize = 1000;

/// Copies everything `source` holds into `target`, then reads both back and fails unless they
/// hold the same: events, active alerts, idempotency records, tokens, shelters, times to
/// shelter, history, webhooks, push subscriptions and cursors.
pub fn transfer(source: &dyn Export, target: &dyn Restore) -> Result<Vec<Copied>, TransferError> {
    let mut copied = vec![copy_log(source, target)?];
    let count = |table, source: usize, written| Copied { table, source, written };

    let records = sorted_idempotency(source)?;
    copied.push(count("idempotency records", records.len(), target.restore_idempotency(&records)?));
    let tokens = source.tokens()?;
    copied.push(count("tokens", tokens.len(), target.restore_tokens(&tokens)?));
    let shelters = source.shelters()?;
    copied.push(count("shelters", shelters.len(), target.restore_shelters(&shelters, source.shelters_seeded()?)?));
    let times = source.shelter_times()?;
    let kept = target.shelter_times()?;
    let mut written = 0;
    for &(region, seconds) in times.iter().filter(|time| !kept.contains(time)) {
        target.set_shelter_time(region, Some(seconds))?;
        written += 1;
    }
    // A time cleared in the source since an earlier run is cleared here too.
    for &(region, _) in kept.iter().filter(|(region, _)| !times.iter().any(|(r, _)| r == region)) {
        target.set_shelter_time(region, None)?;
        written += 1;
    }
    copied.push(count("times to shelter", times.len(), written));
    let (mut history, mut added, mut after) = (0, 0, 0);
    loop {
        let page = source.history_rows(after, BATCH)?;
        let Some(last) = page.last() else { break };
        after = last.record.id;
        history += page.len();
        added += target.restore_history(&page)?;
    }
    copied.push(count("history records", history, added));
    let webhooks = source.webhooks()?;
    copied.push(count("webhooks", webhooks.len(), target.restore_webhooks(&webhooks)?));
    let subscriptions = source.push_subscriptions()?;
    copied.push(count("push subscriptions", subscriptions.len(), target.restore_push_subscriptions(&subscriptions)?));
    // Last: a cursor may not pass the log's head, and an endpoint's cursor needs its endpoint.
    let cursors = source.cursors()?;
    copied.push(count("cursors", cursors.len(), target.restore_cursors(&cursors)?));
    target.restore_id_marks(&source.id_marks()?)?;

    verify(source, target)?;
    Ok(copied)
}

/// Appends the source's events the target lacks, after checking that those it has are the
/// source's own.
fn copy_log(source: &dyn Export, target: &dyn Restore) -> Result<Copied, TransferError> {
    let (source_head, target_head) = (source.last_seq()?, target.last_seq()?);
    if target_head > source_head {
        return Err(TransferError::TargetAhead { source_head, target_head });
    }
    let mut after = 0;
    while after < target_head {
        let (ours, theirs) = (source.events_after(after, BATCH)?, target.events_after(after, BATCH)?);
        if let Some(seq) = first_difference(&ours, &theirs) {
            return Err(TransferError::ForeignLog { seq });
        }
        after = theirs.last().map_or(target_head, |event| event.seq());
    }
    let mut written = 0;
    loop {
        let events = source.events_after(after, BATCH)?;
        let Some(last) = events.last() else { break };
        after = last.seq();
        written += events.len();
        target.append(&Commit { events, idempotency: Vec::new() })?;
    }
    Ok(Copied { table: "events", source: usize::try_from(source_head).unwrap_or(usize::MAX), written })
}

/// The seq of the first event of `theirs` that `ours` does not have the same.
fn first_difference(ours: &[Event], theirs: &[Event]) -> Option<Seq> {
    theirs.iter().enumerate().find(|(index, event)| ours.get(*index) != Some(*event)).map(|(_, event)| event.seq())
}

/// Reads both stores back and fails at the first kind of row they do not hold the same.
pub fn verify(source: &dyn Export, target: &dyn Export) -> Result<(), TransferError> {
    let mut after = 0;
    loop {
        let (ours, theirs) = (source.events_after(after, BATCH)?, target.events_after(after, BATCH)?);
        if ours != theirs {
            let (source, target) = (source.last_seq()?, target.last_seq()?);
            let seq = first_difference(&theirs, &ours).or_else(|| first_difference(&ours, &theirs));
            let detail = seq.map(|seq| format!(": event {seq} first")).unwrap_or_default();
            return Err(differs("events", source as usize, target as usize, detail));
        }
        let Some(last) = ours.last() else { break };
        after = last.seq();
    }
    same("active alerts", by_id(source.active_alerts()?, |a| a.id.0), by_id(target.active_alerts()?, |a| a.id.0))?;
    same("idempotency records", sorted_idempotency(source)?, sorted_idempotency(target)?)?;
    same("tokens", source.tokens()?, target.tokens()?)?;
    same("shelters", source.shelters()?, target.shelters()?)?;
    same("times to shelter", source.shelter_times()?, target.shelter_times()?)?;
    same("history records", all_history(source)?, all_history(target)?)?;
    same("webhooks", source.webhooks()?, target.webhooks()?)?;
    same("push subscriptions", source.push_subscriptions()?, target.push_subscriptions()?)?;
    same("cursors", sorted(source.cursors()?), sorted(target.cursors()?))?;
    same("the shelters' seeded mark", vec![source.shelters_seeded()?], vec![target.shelters_seeded()?])?;
    same("the highest ids given", vec![source.id_marks()?], vec![target.id_marks()?])
}

fn same<T: PartialEq>(table: &'static str, ours: Vec<T>, theirs: Vec<T>) -> Result<(), TransferError> {
    if ours == theirs {
        return Ok(());
    }
    let index = ours.iter().zip(&theirs).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
    Err(differs(table, ours.len(), theirs.len(), format!(": the {} in order first", ordinal(index + 1))))
}

fn differs(table: &'static str, in_source: usize, in_target: usize, detail: String) -> TransferError {
    TransferError::Differs { table, in_source, in_target, detail }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn sorted<T: Ord>(mut rows: Vec<T>) -> Vec<T> {
    rows.sort();
    rows
}

fn by_id<T>(mut rows: Vec<T>, id: impl Fn(&T) -> u64) -> Vec<T> {
    rows.sort_by_key(id);
    rows
}

fn sorted_idempotency(store: &dyn Export) -> Result<Vec<IdempotencyRecord>, StoreError> {
    let mut records = store.idempotency_records()?;
    records.sort_by(|a, b| (&a.owner, &a.key).cmp(&(&b.owner, &b.key)));
    Ok(records)
}

fn all_history(store: &dyn Export) -> Result<Vec<HistoryRow>, StoreError> {
    let mut rows: Vec<HistoryRow> = Vec::new();
    loop {
        let page = store.history_rows(rows.last().map_or(0, |row| row.record.id), BATCH * 10)?;
        if page.is_empty() {
            return Ok(rows);
        }
        rows.extend(page);
    }
}
