//! Whether a shelter is open now, and how full: kept live by responders and operators of its
//! region during a strike, each change an event of the log, so that the nearest shelter offered
//! to someone running is one that will let them in.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::{Actor, Grant};
use crate::alert::is_xml_char;
use crate::location::ShelterId;
use crate::region::{RegionId, RegionRegistry};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShelterState {
    Open,
    Full,
    Closed,
}

wire_names!(ShelterState { Open => "open", Full => "full", Closed => "closed" });

/// A shelter's status as last reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShelterStatus {
    pub shelter_id: ShelterId,
    /// The finest region the shelter stands in: whose responders and operators may report it.
    pub region_id: RegionId,
    pub status: ShelterState,
    /// People inside now, when counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occupancy: Option<u32>,
    /// How many it holds, when reported with the status (the registry's figure otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Step-free access as it is tonight (a broken lift makes a shelter not accessible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessible: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// When this status was reported: how old it is is part of what it says.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

/// A report of a shelter's status, before it is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReport {
    pub shelter_id: ShelterId,
    pub region_id: RegionId,
    pub status: ShelterState,
    pub occupancy: Option<u32>,
    pub capacity: Option<u32>,
    pub accessible: Option<bool>,
    pub notes: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShelterEventType {
    ShelterStatus,
}

wire_names!(ShelterEventType { ShelterStatus => "shelter_status" });

pub const MAX_NOTES_CHARS: usize = 500;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShelterStatusError {
    #[error("this token may not report the status of shelters in region {region}")]
    OutOfScope { region: RegionId },
    #[error("capacity must be at least 1 when given")]
    NoCapacity,
    #[error("notes are longer than {MAX_NOTES_CHARS} characters")]
    NotesTooLong,
    #[error("notes hold a character that XML 1.0 does not allow")]
    ForbiddenCharacter,
}

impl ShelterStatusError {
    pub fn field(&self) -> &'static str {
        match self {
            // The shelter named in the path.
            ShelterStatusError::OutOfScope { .. } => "id",
            ShelterStatusError::NoCapacity => "capacity",
            ShelterStatusError::NotesTooLong | ShelterStatusError::ForbiddenCharacter => "notes",
        }
    }
}

/// The status a report sets, or why it may not: the reporter must be a responder or operator
/// of the shelter's region (or an admin).
pub fn decide_status(
    report: StatusReport,
    grant: &Grant,
    registry: &RegionRegistry,
    now: OffsetDateTime,
) -> Result<ShelterStatus, ShelterStatusError> {
    if !grant.may_respond(report.region_id, registry) {
        return Err(ShelterStatusError::OutOfScope { region: report.region_id });
    }
    if report.capacity == Some(0) {
        return Err(ShelterStatusError::NoCapacity);
    }
    if let Some(notes) = &report.notes {
        if notes.chars().count() > MAX_NOTES_CHARS {
            return Err(ShelterStatusError::NotesTooLong);
        }
        if !notes.chars().all(is_xml_char) {
            return Err(ShelterStatusError::ForbiddenCharacter);
        }
    }
    Ok(ShelterStatus {
        shelter_id: report.shelter_id,
        region_id: report.region_id,
        status: report.status,
        occupancy: report.occupancy,
        capacity: report.capacity,
        accessible: report.accessible,
        notes: report.notes.filter(|notes| !notes.trim().is_empty()),
        since: now,
    })
}

/// The event a status change records (its actor is who reported it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShelterDraft {
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub shelter: ShelterStatus,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    fn registry() -> RegionRegistry {
        RegionRegistry::from_csv(
            "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n2,1,raion,,R,R\n3,,oblast,,L,L\n",
        )
        .unwrap()
    }

    fn report(region: u32) -> StatusReport {
        StatusReport {
            shelter_id: ShelterId(7),
            region_id: RegionId(region),
            status: ShelterState::Full,
            occupancy: Some(300),
            capacity: Some(250),
            accessible: Some(false),
            notes: Some("  ".into()),
        }
    }

    #[test]
    fn a_responder_reports_shelters_in_its_subtree_only() {
        let responder = Grant { role: Role::Responder, regions: vec![RegionId(1)] };
        let now = OffsetDateTime::UNIX_EPOCH;
        let status = decide_status(report(2), &responder, &registry(), now).unwrap();
        assert_eq!((status.status, status.occupancy, status.since), (ShelterState::Full, Some(300), now));
        assert_eq!(status.notes, None, "blank notes are no notes");
        assert_eq!(
            decide_status(report(3), &responder, &registry(), now),
            Err(ShelterStatusError::OutOfScope { region: RegionId(3) })
        );
        let reader = Grant { role: Role::Reader, regions: vec![RegionId(1)] };
        assert!(decide_status(report(2), &reader, &registry(), now).is_err());
    }

    #[test]
    fn bad_figures_and_notes_name_their_field() {
        let admin = Grant::admin();
        let now = OffsetDateTime::UNIX_EPOCH;
        let zero = StatusReport { capacity: Some(0), ..report(2) };
        assert_eq!(decide_status(zero, &admin, &registry(), now).unwrap_err().field(), "capacity");
        let long = StatusReport { notes: Some("x".repeat(MAX_NOTES_CHARS + 1)), ..report(2) };
        assert_eq!(decide_status(long, &admin, &registry(), now).unwrap_err().field(), "notes");
        let control = StatusReport { notes: Some("a\u{1}b".into()), ..report(2) };
        assert_eq!(decide_status(control, &admin, &registry(), now), Err(ShelterStatusError::ForbiddenCharacter));
    }
}
