//! The alert lifecycle: the set of active alerts, the region states they imply, and the rules
//! that turn a command into an event.
//!
//! The book never changes itself while deciding: [`AlertBook::decide`] returns an event draft,
//! the caller makes it durable, and only then [`AlertBook::apply`] folds the written event in.
//! So the in-memory state is always a function of the log.

mod change;
mod checks;
mod reinstate;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::Actor;
use crate::alert::{Alert, AlertId, AlertKind, AlertLevel, AlertStatus, FinishReason, LocalizedText, Threat};
use crate::event::{AlertEvent, Event, EventDraft, EventType, Seq};
use crate::region::{RegionId, RegionRegistry, RegionState};
use crate::shelter_time::ShelterTimes;
use checks::{check_expiry, check_texts};

pub use change::{AlertField, changed_fields};

/// What an operator asks to declare.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub region_id: RegionId,
    pub kind: AlertKind,
    pub level: AlertLevel,
    pub status: AlertStatus,
    pub threats: Vec<Threat>,
    pub message: Option<LocalizedText>,
    pub instruction: Option<LocalizedText>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl Declaration {
    /// A red, real alert of `kind` for `region_id`, with no texts, threats or expiry.
    pub fn new(region_id: RegionId, kind: AlertKind) -> Declaration {
        Declaration {
            region_id,
            kind,
            level: AlertLevel::Red,
            status: AlertStatus::Actual,
            threats: Vec::new(),
            message: None,
            instruction: None,
            expires_at: None,
        }
    }
}

/// The fields an update may change; `None` leaves a field as it is. Region, kind and status are
/// fixed for an alert's life: changing them is a new alert.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertChanges {
    pub level: Option<AlertLevel>,
    pub threats: Option<Vec<Threat>>,
    pub message: Option<LocalizedText>,
    pub instruction: Option<LocalizedText>,
    pub expires_at: Option<OffsetDateTime>,
}

/// What a request asks of the book. `Reinstate` takes back the all-clear that ended alert `id`,
/// which was sent in error: the alert is declared again, as a new alert that `reinstates` it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Declare(Declaration),
    Update { id: AlertId, changes: AlertChanges },
    Cancel { id: AlertId },
    Expire { id: AlertId },
    Reinstate { id: AlertId },
}

impl Command {
    /// The region the command acts on, when the book knows it; used for the scope check.
    pub fn region(&self, book: &AlertBook) -> Option<RegionId> {
        match self {
            Command::Declare(declaration) => Some(declaration.region_id),
            // A reinstatement names a finished alert, which the book no longer holds: the writer
            // takes its region from the log's record of it.
            Command::Update { id, .. }
            | Command::Cancel { id }
            | Command::Expire { id }
            | Command::Reinstate { id } => book.active.get(id).map(|alert| alert.region_id),
        }
    }
}

/// The outcome of a valid command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Write this event.
    Record(EventDraft),
    /// Nothing to write: the alert already stands as asked (a repeated declaration that adds
    /// nothing, an update that changes nothing).
    Unchanged(Alert),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AlertError {
    #[error("region {id} is not in the registry")]
    UnknownRegion { id: RegionId },
    #[error("alert {id} does not exist")]
    NotFound { id: AlertId },
    #[error("alert {id} has already finished")]
    AlreadyFinished { id: AlertId },
    #[error("alert {id} has not reached its expiry time")]
    NotYetExpired { id: AlertId },
    #[error("alert {id} is still active: there is no all-clear to take back")]
    StillActive { id: AlertId },
    #[error("alert {id} ended at its expiry time, not by an all-clear: declare a new alert instead")]
    NotCancelled { id: AlertId },
    #[error("the expiry time is not in the future")]
    ExpiryNotInFuture,
    #[error("{field} is longer than {max} characters", max = LocalizedText::MAX_CHARS)]
    TextTooLong { field: &'static str },
    /// `field` names the language too, e.g. `message.uk`.
    #[error("{field} holds the character U+{code_point:04X}, which XML 1.0 (and so CAP and Atom) does not allow")]
    InvalidCharacters { field: &'static str, code_point: u32 },
}

/// The active alerts and, per region, how many real alerts sit on it and below it.
#[derive(Clone, Debug)]
pub struct AlertBook {
    registry: Arc<RegionRegistry>,
    active: BTreeMap<AlertId, Alert>,
    by_key: HashMap<(RegionId, AlertKind, AlertStatus), AlertId>,
    /// Active `actual` alerts declared for exactly this region.
    on_region: HashMap<RegionId, u32>,
    /// Active `actual` alerts declared for a strict descendant of this region.
    below_region: HashMap<RegionId, u32>,
    next_id: u64,
    /// The sequence number of the latest event folded in: a snapshot of this book reflects
    /// exactly the events up to it.
    last_seq: Seq,
    /// When the latest event folded in happened: what "last modified" means for readers.
    last_change_at: Option<OffsetDateTime>,
    /// Each region's time to shelter, which a declaration carries.
    shelter_times: ShelterTimes,
}

impl AlertBook {
    pub fn new(registry: Arc<RegionRegistry>) -> AlertBook {
        AlertBook {
            registry,
            active: BTreeMap::new(),
            by_key: HashMap::new(),
            on_region: HashMap::new(),
            below_region: HashMap::new(),
            next_id: 1,
            last_seq: 0,
            last_change_at: None,
            shelter_times: ShelterTimes::default(),
        }
    }

    /// Rebuilds the book from the alerts a store reports active, the highest alert id it has
    /// ever issued and its last sequence number.
    pub fn restore(
        registry: Arc<RegionRegistry>,
        active: impl IntoIterator<Item = Alert>,
        highest_id: Option<AlertId>,
        last_seq: Seq,
        last_change_at: Option<OffsetDateTime>,
    ) -> AlertBook {
        let mut book = AlertBook::new(registry);
        for alert in active {
            book.insert_active(alert);
        }
        book.next_id = book.next_id.max(highest_id.map_or(1, |id| id.0 + 1));
        book.last_seq = last_seq;
        book.last_change_at = last_change_at;
        book
    }

    pub fn registry(&self) -> &Arc<RegionRegistry> {
        &self.registry
    }

    /// The times to shelter that declarations carry from now on.
    pub fn set_shelter_times(&mut self, times: ShelterTimes) {
        self.shelter_times = times;
    }

    pub fn shelter_times(&self) -> &ShelterTimes {
        &self.shelter_times
    }

    pub fn active(&self) -> impl Iterator<Item = &Alert> {
        self.active.values()
    }

    pub fn last_seq(&self) -> Seq {
        self.last_seq
    }

    pub fn last_change_at(&self) -> Option<OffsetDateTime> {
        self.last_change_at
    }

    pub fn get(&self, id: AlertId) -> Option<&Alert> {
        self.active.get(&id)
    }

    /// Decides what `command` means against the current state, without changing it.
    pub fn decide(&self, command: &Command, actor: &Actor, now: OffsetDateTime) -> Result<Decision, AlertError> {
        match command {
            Command::Declare(declaration) => self.decide_declare(declaration, actor, now),
            Command::Update { id, changes } => self.decide_update(*id, changes, actor, now),
            Command::Cancel { id } => {
                let alert = self.active_alert(*id)?;
                Ok(Decision::Record(finish(alert, FinishReason::Cancelled, actor, now)))
            }
            Command::Expire { id } => {
                let alert = self.active_alert(*id)?;
                match alert.expires_at {
                    // It ended at its expiry, however late this runs (the server may have been
                    // down then): the event, `finished_at` and the history say so.
                    Some(expiry) if expiry <= now => {
                        Ok(Decision::Record(finish(alert, FinishReason::Expired, actor, expiry)))
                    }
                    _ => Err(AlertError::NotYetExpired { id: *id }),
                }
            }
            // The book alone knows only active alerts; the writer, which reads the log, decides a
            // reinstatement with the record of the cancelled alert (`decide_reinstate`).
            Command::Reinstate { id } => self.decide_reinstate(*id, None, actor, now),
        }
    }

    /// Folds a written event into the state.
    /// Folds in any event of the log: an alert's changes the book; an incident's or a shelter's
    /// only moves the book's head, which every event does.
    pub fn apply_event(&mut self, event: &Event) {
        match event {
            Event::Alert(event) => self.apply(event),
            other => self.last_seq = self.last_seq.max(other.seq()),
        }
    }

    pub fn apply(&mut self, event: &AlertEvent) {
        let alert = &event.alert;
        self.next_id = self.next_id.max(alert.id.0 + 1);
        self.last_seq = self.last_seq.max(event.seq);
        self.last_change_at = Some(event.at);
        match event.kind {
            EventType::Declared | EventType::Updated if alert.is_active() => {
                if let Some(previous) = self.active.get_mut(&alert.id) {
                    *previous = alert.clone();
                } else {
                    self.insert_active(alert.clone());
                }
            }
            _ => self.remove_active(alert.id),
        }
    }

    /// The state of a region (see [`RegionState`]); an unknown region is clear.
    pub fn region_state(&self, id: RegionId) -> RegionState {
        let covered = std::iter::once(id)
            .chain(self.registry.ancestors(id))
            .any(|r| self.on_region.get(&r).is_some_and(|&n| n > 0));
        if covered {
            RegionState::Alert
        } else if self.below_region.get(&id).is_some_and(|&n| n > 0) {
            RegionState::Partial
        } else {
            RegionState::Clear
        }
    }

    /// Active alerts (of any status) whose region is `id`, an ancestor of it or a descendant:
    /// every alert that bears on the region's state.
    pub fn alerts_bearing_on(&self, id: RegionId) -> impl Iterator<Item = &Alert> {
        self.active.values().filter(move |alert| {
            self.registry.is_within(id, alert.region_id) || self.registry.is_within(alert.region_id, id)
        })
    }

    /// Active alerts whose expiry time has passed at `now`.
    pub fn due_to_expire(&self, now: OffsetDateTime) -> Vec<AlertId> {
        self.active
            .values()
            .filter(|alert| alert.expires_at.is_some_and(|expiry| expiry <= now))
            .map(|alert| alert.id)
            .collect()
    }

    fn decide_declare(
        &self,
        declaration: &Declaration,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> Result<Decision, AlertError> {
        if self.registry.get(declaration.region_id).is_none() {
            return Err(AlertError::UnknownRegion { id: declaration.region_id });
        }
        check_texts(declaration.message.as_ref(), declaration.instruction.as_ref())?;
        check_expiry(declaration.expires_at, now)?;
        // A drill never merges with a real alert: the status is part of the key.
        let key = (declaration.region_id, declaration.kind, declaration.status);
        if let Some(existing) = self.by_key.get(&key).and_then(|id| self.active.get(id)) {
            // Declaring what is already active must never swallow news (a higher level, a new
            // threat): it escalates the alert, as one update event everyone hears.
            let escalated = change::apply(existing, &change::escalation(existing, declaration));
            if escalated == *existing {
                return Ok(Decision::Unchanged(escalated));
            }
            return Ok(Decision::Record(updated_draft(escalated, actor, now)));
        }
        let mut threats = declaration.threats.clone();
        threats.sort();
        threats.dedup();
        let alert = Alert {
            id: AlertId(self.next_id),
            region_id: declaration.region_id,
            kind: declaration.kind,
            level: declaration.level,
            status: declaration.status,
            threats,
            message: declaration.message.clone(),
            instruction: declaration.instruction.clone(),
            started_at: now,
            updated_at: now,
            expires_at: declaration.expires_at,
            finished_at: None,
            finish_reason: None,
            declared_by: actor.clone(),
            seq: 0,
            reinstates: None,
            shelter_within_s: self.shelter_times.within(declaration.region_id, &self.registry),
        };
        Ok(Decision::Record(EventDraft { kind: EventType::Declared, at: now, actor: actor.clone(), alert }))
    }

    fn decide_update(
        &self,
        id: AlertId,
        changes: &AlertChanges,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> Result<Decision, AlertError> {
        let current = self.active_alert(id)?;
        check_texts(changes.message.as_ref(), changes.instruction.as_ref())?;
        if changes.expires_at.is_some() {
            check_expiry(changes.expires_at, now)?;
        }
        let updated = change::apply(current, changes);
        if updated == *current {
            return Ok(Decision::Unchanged(updated));
        }
        Ok(Decision::Record(updated_draft(updated, actor, now)))
    }

    /// Ids are issued in order and never reused, so an id below `next_id` that is not active
    /// belongs to a finished alert.
    fn active_alert(&self, id: AlertId) -> Result<&Alert, AlertError> {
        self.active.get(&id).ok_or(if id.0 < self.next_id {
            AlertError::AlreadyFinished { id }
        } else {
            AlertError::NotFound { id }
        })
    }

    fn insert_active(&mut self, alert: Alert) {
        if alert.status == AlertStatus::Actual {
            self.count(alert.region_id, 1);
        }
        self.by_key.insert((alert.region_id, alert.kind, alert.status), alert.id);
        self.active.insert(alert.id, alert);
    }

    fn remove_active(&mut self, id: AlertId) {
        if let Some(alert) = self.active.remove(&id) {
            if alert.status == AlertStatus::Actual {
                self.count(alert.region_id, -1);
            }
            self.by_key.remove(&(alert.region_id, alert.kind, alert.status));
        }
    }

    fn count(&mut self, region: RegionId, delta: i32) {
        let bump = |map: &mut HashMap<RegionId, u32>, key| {
            let entry = map.entry(key).or_insert(0);
            *entry = entry.saturating_add_signed(delta);
        };
        bump(&mut self.on_region, region);
        let ancestors: Vec<_> = self.registry.ancestors(region).collect();
        for ancestor in ancestors {
            bump(&mut self.below_region, ancestor);
        }
    }
}

fn updated_draft(mut alert: Alert, actor: &Actor, now: OffsetDateTime) -> EventDraft {
    alert.updated_at = now;
    EventDraft { kind: EventType::Updated, at: now, actor: actor.clone(), alert }
}

fn finish(alert: &Alert, reason: FinishReason, actor: &Actor, now: OffsetDateTime) -> EventDraft {
    let mut finished = alert.clone();
    finished.finished_at = Some(now);
    finished.finish_reason = Some(reason);
    finished.updated_at = now;
    let kind = match reason {
        FinishReason::Cancelled => EventType::Cancelled,
        FinishReason::Expired => EventType::Expired,
    };
    EventDraft { kind, at: now, actor: actor.clone(), alert: finished }
}

#[cfg(test)]
mod tests;
