//! The events the log records: alerts', incidents' and shelters'. Each carries its subject as it
//! stood after the event, so that a reader of the log never has to replay history to know what an
//! alert, an incident or a shelter's status looked like.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use std::fmt;

use crate::access::Actor;
use crate::alert::Alert;
use crate::incident::{Incident, IncidentDraft, IncidentEventType};
use crate::region::RegionId;
use crate::shelter_status::{ShelterDraft, ShelterEventType, ShelterStatus};

/// A position in the global event log: gap-free, starting at 1, in commit order.
pub type Seq = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Declared,
    Updated,
    Cancelled,
    Expired,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Declared => "declared",
            EventType::Updated => "updated",
            EventType::Cancelled => "cancelled",
            EventType::Expired => "expired",
        }
    }
}

/// An event decided by the domain but not yet written: it has no sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventDraft {
    pub kind: EventType,
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub alert: Alert,
}

impl EventDraft {
    /// Gives the draft its place in the log; the alert records that place as its latest `seq`.
    pub fn into_event(self, seq: Seq) -> AlertEvent {
        let mut alert = self.alert;
        alert.seq = seq;
        AlertEvent { seq, kind: self.kind, at: self.at, actor: self.actor, alert }
    }
}

/// An event in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "An event in the log, carrying the alert as it stood after the event.")
)]
pub struct AlertEvent {
    /// Position in the log: gap-free, starting at 1, in commit order.
    #[cfg_attr(feature = "openapi", schema(value_type = u64, minimum = 1))]
    pub seq: Seq,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub alert: Alert,
}

/// An incident's event in the log, carrying the incident as it stood after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentEvent {
    #[cfg_attr(feature = "openapi", schema(value_type = u64, minimum = 1))]
    pub seq: Seq,
    #[serde(rename = "type")]
    pub kind: IncidentEventType,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub incident: Incident,
}

/// A shelter's status change in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShelterEvent {
    #[cfg_attr(feature = "openapi", schema(value_type = u64, minimum = 1))]
    pub seq: Seq,
    #[serde(rename = "type")]
    pub kind: ShelterEventType,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub shelter: ShelterStatus,
}

/// Anything the log records: one sequence of numbers for all three, so that a follower misses
/// nothing of any of them. Each kind keeps its own wire shape (`type` and a body named for what
/// it carries: `alert`, `incident` or `shelter`), so an alert event reads as it always did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Event {
    Alert(AlertEvent),
    Incident(IncidentEvent),
    Shelter(ShelterEvent),
}

/// The families of events a stream may ask for with `types=`: `alerts` unless it asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventFamily {
    Alerts,
    Incidents,
    Shelters,
}

wire_names!(EventFamily { Alerts => "alerts", Incidents => "incidents", Shelters => "shelters" });

impl Event {
    pub fn seq(&self) -> Seq {
        match self {
            Event::Alert(event) => event.seq,
            Event::Incident(event) => event.seq,
            Event::Shelter(event) => event.seq,
        }
    }

    pub fn at(&self) -> OffsetDateTime {
        match self {
            Event::Alert(event) => event.at,
            Event::Incident(event) => event.at,
            Event::Shelter(event) => event.at,
        }
    }

    pub fn actor(&self) -> &Actor {
        match self {
            Event::Alert(event) => &event.actor,
            Event::Incident(event) => &event.actor,
            Event::Shelter(event) => &event.actor,
        }
    }

    /// The event's `type` on the wire (and its SSE event name).
    pub fn name(&self) -> &'static str {
        match self {
            Event::Alert(event) => event.kind.as_str(),
            Event::Incident(event) => event.kind.as_str(),
            Event::Shelter(event) => event.kind.as_str(),
        }
    }

    pub fn family(&self) -> EventFamily {
        match self {
            Event::Alert(_) => EventFamily::Alerts,
            Event::Incident(_) => EventFamily::Incidents,
            Event::Shelter(_) => EventFamily::Shelters,
        }
    }

    /// The region the event is about: the alert's, the incident's, the shelter's.
    pub fn region_id(&self) -> RegionId {
        match self {
            Event::Alert(event) => event.alert.region_id,
            Event::Incident(event) => event.incident.region_id,
            Event::Shelter(event) => event.shelter.region_id,
        }
    }

    /// Whether a public output may carry this event: every alert and shelter status, and only
    /// the incidents reported as public (which by construction carry no private field).
    pub fn is_public(&self) -> bool {
        match self {
            Event::Incident(event) => event.incident.public,
            Event::Alert(_) | Event::Shelter(_) => true,
        }
    }

    pub fn as_alert(&self) -> Option<&AlertEvent> {
        match self {
            Event::Alert(event) => Some(event),
            _ => None,
        }
    }

    pub fn into_alert(self) -> Option<AlertEvent> {
        match self {
            Event::Alert(event) => Some(event),
            _ => None,
        }
    }

    pub fn as_incident(&self) -> Option<&IncidentEvent> {
        match self {
            Event::Incident(event) => Some(event),
            _ => None,
        }
    }

    pub fn as_shelter(&self) -> Option<&ShelterEvent> {
        match self {
            Event::Shelter(event) => Some(event),
            _ => None,
        }
    }
}

impl From<AlertEvent> for Event {
    fn from(event: AlertEvent) -> Event {
        Event::Alert(event)
    }
}

impl IncidentDraft {
    pub fn into_event(self, seq: Seq) -> IncidentEvent {
        IncidentEvent { seq, kind: self.kind, at: self.at, actor: self.actor, incident: self.incident }
    }
}

impl ShelterDraft {
    pub fn into_event(self, seq: Seq) -> ShelterEvent {
        ShelterEvent {
            seq,
            kind: ShelterEventType::ShelterStatus,
            at: self.at,
            actor: self.actor,
            shelter: self.shelter,
        }
    }
}

#[cfg(test)]
mod tests;
