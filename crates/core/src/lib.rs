//! The domain of tryvoha: regions, alerts, their lifecycle and who may change them.
//!
//! This crate does no I/O: no files, sockets, clocks or threads. Time enters as an argument
//! (`now`), identifiers come from the [`AlertBook`] state, and the bundled region data is parsed
//! from a string handed in by the caller. Everything here is deterministic and unit-tested.
//!
//! Main types: [`RegionRegistry`] (the hierarchy), [`Alert`] and [`AlertEvent`] (what the log
//! records), [`AlertBook`] (the active alerts and the region states they imply, with
//! [`AlertBook::decide`] turning a [`Command`] into an event), and [`Grant`] (what a token may do).

pub mod access;
#[macro_use]
pub mod alert;
pub mod audience;
pub mod book;
pub mod event;
pub mod incident;
pub mod lines;
pub mod location;
pub mod publication;
pub mod region;
pub mod shelter_status;
pub mod shelter_time;

pub use access::{Actor, Grant, Role};
pub use alert::{Alert, AlertId, AlertKind, AlertLevel, AlertStatus, FinishReason, LocalizedText, Threat, is_xml_char};
pub use audience::{Audience, AudienceIndex};
pub use book::{AlertBook, AlertChanges, AlertError, AlertField, Command, Decision, Declaration, changed_fields};
pub use event::{AlertEvent, Event, EventDraft, EventFamily, EventType, IncidentEvent, Seq, ShelterEvent};
pub use incident::{
    Incident, IncidentChanges, IncidentDraft, IncidentError, IncidentEventType, IncidentField, IncidentId,
    IncidentKind, IncidentReport, IncidentStatus, Severity,
};
pub use location::{CoordinateError, Coordinates, Shelter, ShelterError, ShelterId, ShelterInfo, ShelterKind};
pub use region::{Level, Region, RegionId, RegionRegistry, RegionState, RegistryError};
pub use shelter_status::{
    ShelterDraft, ShelterEventType, ShelterState, ShelterStatus, ShelterStatusError, StatusReport, decide_status,
};
pub use shelter_time::{MAX_SHELTER_WITHIN_S, ShelterTimeError, ShelterTimes};
