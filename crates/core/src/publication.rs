//! What the public sees of who acted: the issuing authority, never the token.
//!
//! The log records the token that declared, updated or cancelled each alert (an [`Actor`]), and
//! administrators read it there. Every public output (the streams, the alert reads, CAP, the
//! compatible APIs) names the authority that issues the warnings instead: a token's name may be a
//! person's, and its id tells an attacker which credential to go after.

use crate::access::Actor;
use crate::alert::Alert;
use crate::event::{AlertEvent, Event, IncidentEvent, ShelterEvent};
use crate::incident::Incident;

impl Actor {
    /// The issuing authority as the public sees it: a name, and no token.
    pub fn authority(name: &str) -> Actor {
        Actor { token_id: None, name: name.to_owned() }
    }
}

impl Alert {
    /// This alert as published: `declared_by` is the authority.
    pub fn published_by(&self, authority: &str) -> Alert {
        Alert { declared_by: Actor::authority(authority), ..self.clone() }
    }
}

impl AlertEvent {
    /// This event as published: its `actor` and its alert's `declared_by` are the authority.
    pub fn published_by(&self, authority: &str) -> AlertEvent {
        // Field by field: `..self.clone()` would copy the alert (and its texts) twice.
        AlertEvent {
            seq: self.seq,
            kind: self.kind,
            at: self.at,
            actor: Actor::authority(authority),
            alert: self.alert.published_by(authority),
        }
    }
}

impl Incident {
    /// This incident as published: `reported_by` is the authority.
    pub fn published_by(&self, authority: &str) -> Incident {
        Incident { reported_by: Actor::authority(authority), ..self.clone() }
    }
}

impl Event {
    /// This event as published: whoever acted, the public sees the authority.
    pub fn published_by(&self, authority: &str) -> Event {
        match self {
            Event::Alert(event) => Event::Alert(event.published_by(authority)),
            Event::Incident(event) => Event::Incident(IncidentEvent {
                actor: Actor::authority(authority),
                incident: event.incident.published_by(authority),
                ..event.clone()
            }),
            Event::Shelter(event) => {
                Event::Shelter(ShelterEvent { actor: Actor::authority(authority), ..event.clone() })
            }
        }
    }
}
