//! What responders report during and after a strike: a fire at a residential building, a care
//! home evacuated, a road closed. An incident is reported, updated with new figures, contained
//! and closed, each step an event of the log beside the alerts'.
//!
//! Privacy is decided here, once: an incident is public or not, and two fields (the exact
//! address and casualty details) exist only on incidents that are not. A public incident never
//! carries them, and one that was published is never made private again (its events are out
//! already), so a public output needs no field-by-field redaction: it shows public incidents
//! whole and no other.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::{Actor, Grant};
use crate::alert::{AlertId, LocalizedText, is_xml_char};
use crate::region::{RegionId, RegionRegistry};

/// An incident's identifier, assigned in report order and never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct IncidentId(pub u64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    Fire,
    Explosion,
    BuildingDamage,
    Casualties,
    Evacuation,
    Debris,
    PowerOutage,
    WaterOutage,
    RoadClosed,
    Other,
}

wire_names!(IncidentKind {
    Fire => "fire",
    Explosion => "explosion",
    BuildingDamage => "building_damage",
    Casualties => "casualties",
    Evacuation => "evacuation",
    Debris => "debris",
    PowerOutage => "power_outage",
    WaterOutage => "water_outage",
    RoadClosed => "road_closed",
    Other => "other",
});

/// `active` → `contained` → `closed`, or `active` → `closed`; never back, and nothing after
/// `closed`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    #[default]
    Active,
    Contained,
    Closed,
}

wire_names!(IncidentStatus { Active => "active", Contained => "contained", Closed => "closed" });

/// CAP's severities: how bad it is, `unknown` until a responder says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Moderate,
    Severe,
    Extreme,
    #[default]
    Unknown,
}

wire_names!(Severity {
    Minor => "minor",
    Moderate => "moderate",
    Severe => "severe",
    Extreme => "extreme",
    Unknown => "unknown",
});

/// An incident as it stood after its latest event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    pub id: IncidentId,
    pub kind: IncidentKind,
    pub status: IncidentStatus,
    pub severity: Severity,
    /// The finest region of the place (found from the coordinates unless given).
    pub region_id: RegionId,
    pub lat: f64,
    pub lon: f64,
    pub description: LocalizedText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people_affected: Option<u32>,
    /// Where people were taken (a school, a shelter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evacuated_to: Option<String>,
    /// The exact address: only on an incident that is not public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Casualty details: only on an incident that is not public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub casualty_details: Option<String>,
    /// Shown on public streams, pages and exports; otherwise to admins, operators and
    /// responders only.
    pub public: bool,
    /// The alert it happened under: the active (or latest) air-raid alert covering the place
    /// unless the report names one.
    pub alert_id: Option<AlertId>,
    #[serde(with = "time::serde::rfc3339")]
    pub reported_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub reported_by: Actor,
}

/// A report, with the place resolved by the caller (the region from the coordinates, the alert
/// from the alerts covering it).
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentReport {
    pub kind: IncidentKind,
    pub severity: Severity,
    pub region_id: RegionId,
    pub lat: f64,
    pub lon: f64,
    pub description: LocalizedText,
    pub people_affected: Option<u32>,
    pub evacuated_to: Option<String>,
    pub address: Option<String>,
    pub casualty_details: Option<String>,
    pub public: bool,
    pub alert_id: Option<AlertId>,
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentChanges {
    pub status: Option<IncidentStatus>,
    pub severity: Option<Severity>,
    pub description: Option<LocalizedText>,
    pub people_affected: Option<u32>,
    pub evacuated_to: Option<String>,
    /// `Some(None)` clears it (so that an incident can be published once it holds none).
    pub address: Option<Option<String>>,
    pub casualty_details: Option<Option<String>>,
    pub public: Option<bool>,
}

/// The fields an error can name, as the API spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncidentField {
    RegionId,
    Description,
    EvacuatedTo,
    Address,
    CasualtyDetails,
    Public,
    Status,
}

impl IncidentField {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentField::RegionId => "region_id",
            IncidentField::Description => "description",
            IncidentField::EvacuatedTo => "evacuated_to",
            IncidentField::Address => "address",
            IncidentField::CasualtyDetails => "casualty_details",
            IncidentField::Public => "public",
            IncidentField::Status => "status",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    #[error("this token may not report or change incidents in region {region}")]
    OutOfScope { region: RegionId },
    #[error("{} is kept only on incidents that are not public", field.as_str())]
    PrivateOnPublic { field: IncidentField },
    #[error("a published incident cannot be made private again (its events are public already)")]
    Unpublish,
    #[error("incident {id} is closed; nothing about it changes any more")]
    Closed { id: IncidentId },
    #[error("an incident goes active → contained → closed, not from {} to {}", from.as_str(), to.as_str())]
    StatusBackwards { from: IncidentStatus, to: IncidentStatus },
    #[error("{} needs a text in uk or en", field.as_str())]
    Missing { field: IncidentField },
    #[error("{} is longer than {max} characters", field.as_str())]
    TooLong { field: IncidentField, max: usize },
    #[error("{} holds a character that XML 1.0 does not allow", field.as_str())]
    ForbiddenCharacter { field: IncidentField },
}

impl IncidentError {
    /// The request field the error is about, if it is about one.
    pub fn field(&self) -> Option<IncidentField> {
        match self {
            IncidentError::OutOfScope { .. } => Some(IncidentField::RegionId),
            IncidentError::Closed { .. } => None,
            IncidentError::Unpublish => Some(IncidentField::Public),
            IncidentError::StatusBackwards { .. } => Some(IncidentField::Status),
            IncidentError::PrivateOnPublic { field }
            | IncidentError::Missing { field }
            | IncidentError::TooLong { field, .. }
            | IncidentError::ForbiddenCharacter { field } => Some(*field),
        }
    }
}

/// What an event did to an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentEventType {
    IncidentReported,
    IncidentUpdated,
    IncidentClosed,
}

wire_names!(IncidentEventType {
    IncidentReported => "incident_reported",
    IncidentUpdated => "incident_updated",
    IncidentClosed => "incident_closed",
});

/// A decided incident event, not yet written.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentDraft {
    pub kind: IncidentEventType,
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub incident: Incident,
}

/// The longest free text of the one-line fields (`evacuated_to`, `address`, `casualty_details`).
pub const MAX_FIELD_CHARS: usize = 500;

/// Decides a report: the new incident `id`, reported by `actor` under `grant`.
pub fn report(
    report: IncidentReport,
    id: IncidentId,
    actor: Actor,
    grant: &Grant,
    registry: &RegionRegistry,
    now: OffsetDateTime,
) -> Result<IncidentDraft, IncidentError> {
    if !grant.may_respond(report.region_id, registry) {
        return Err(IncidentError::OutOfScope { region: report.region_id });
    }
    check_description(&report.description)?;
    let incident = Incident {
        id,
        kind: report.kind,
        status: IncidentStatus::Active,
        severity: report.severity,
        region_id: report.region_id,
        lat: report.lat,
        lon: report.lon,
        description: report.description,
        people_affected: report.people_affected,
        evacuated_to: report.evacuated_to,
        address: report.address,
        casualty_details: report.casualty_details,
        public: report.public,
        alert_id: report.alert_id,
        reported_at: now,
        updated_at: now,
        closed_at: None,
        reported_by: actor.clone(),
    };
    check_fields(&incident)?;
    Ok(IncidentDraft { kind: IncidentEventType::IncidentReported, at: now, actor, incident })
}

/// Decides an update of `current`; `None` when it changes nothing (no event is written).
pub fn update(
    current: &Incident,
    changes: IncidentChanges,
    actor: Actor,
    grant: &Grant,
    registry: &RegionRegistry,
    now: OffsetDateTime,
) -> Result<Option<IncidentDraft>, IncidentError> {
    if !grant.may_respond(current.region_id, registry) {
        return Err(IncidentError::OutOfScope { region: current.region_id });
    }
    if current.status == IncidentStatus::Closed {
        return Err(IncidentError::Closed { id: current.id });
    }
    let mut next = current.clone();
    if let Some(status) = changes.status {
        if status < current.status {
            return Err(IncidentError::StatusBackwards { from: current.status, to: status });
        }
        next.status = status;
    }
    if let Some(public) = changes.public {
        if current.public && !public {
            return Err(IncidentError::Unpublish);
        }
        next.public = public;
    }
    if let Some(description) = changes.description {
        check_description(&description)?;
        next.description = description;
    }
    next.severity = changes.severity.unwrap_or(next.severity);
    next.people_affected = changes.people_affected.or(next.people_affected);
    next.evacuated_to = changes.evacuated_to.or(next.evacuated_to);
    next.address = changes.address.unwrap_or(next.address);
    next.casualty_details = changes.casualty_details.unwrap_or(next.casualty_details);
    check_fields(&next)?;
    if next == *current {
        return Ok(None);
    }
    next.updated_at = now;
    let kind = if next.status == IncidentStatus::Closed {
        next.closed_at = Some(now);
        IncidentEventType::IncidentClosed
    } else {
        IncidentEventType::IncidentUpdated
    };
    Ok(Some(IncidentDraft { kind, at: now, actor, incident: next }))
}

fn check_description(description: &LocalizedText) -> Result<(), IncidentError> {
    let field = IncidentField::Description;
    let blank = |text: &Option<String>| text.as_deref().is_none_or(|t| t.trim().is_empty());
    if blank(&description.uk) && blank(&description.en) {
        return Err(IncidentError::Missing { field });
    }
    if description.longest_chars() > LocalizedText::MAX_CHARS {
        return Err(IncidentError::TooLong { field, max: LocalizedText::MAX_CHARS });
    }
    if description.first_forbidden_character().is_some() {
        return Err(IncidentError::ForbiddenCharacter { field });
    }
    Ok(())
}

/// The free-text fields' limits, and the private-only fields kept off public incidents.
fn check_fields(incident: &Incident) -> Result<(), IncidentError> {
    let texts = [
        (IncidentField::EvacuatedTo, &incident.evacuated_to),
        (IncidentField::Address, &incident.address),
        (IncidentField::CasualtyDetails, &incident.casualty_details),
    ];
    for (field, text) in texts {
        let Some(text) = text else { continue };
        if text.chars().count() > MAX_FIELD_CHARS {
            return Err(IncidentError::TooLong { field, max: MAX_FIELD_CHARS });
        }
        if !text.chars().all(is_xml_char) {
            return Err(IncidentError::ForbiddenCharacter { field });
        }
    }
    if incident.public {
        if incident.address.is_some() {
            return Err(IncidentError::PrivateOnPublic { field: IncidentField::Address });
        }
        if incident.casualty_details.is_some() {
            return Err(IncidentError::PrivateOnPublic { field: IncidentField::CasualtyDetails });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
