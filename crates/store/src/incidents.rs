//! The indexes kept beside the log for its incident and shelter events: each incident and each
//! shelter's status as its latest event left it, written in the same commit as the event.

use time::OffsetDateTime;
use tryvoha_core::{
    AlertId, Incident, IncidentId, IncidentKind, IncidentStatus, RegionId, Seq, ShelterEvent, ShelterStatus,
};

/// Which incidents to list: every filter given must hold (`regions` is a list of exact region
/// ids: the caller expands a subtree), newest report first, at most `limit`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncidentQuery {
    pub regions: Option<Vec<RegionId>>,
    pub alert_id: Option<AlertId>,
    pub statuses: Vec<IncidentStatus>,
    /// Reported at or after.
    pub from: Option<OffsetDateTime>,
    /// Reported before.
    pub to: Option<OffsetDateTime>,
    /// Only incidents reported as public: what a reader without a responder's grant sees.
    pub public_only: bool,
    pub limit: usize,
}

pub trait IncidentStore: Send + Sync {
    /// The incident as its latest event left it.
    fn incident(&self, id: IncidentId) -> crate::StoreResult<Option<Incident>>;
    /// [`incident`](IncidentStore::incident) for the writer while it decides, read where it
    /// writes (as `EventLog::alert_for_writer`).
    fn incident_for_writer(&self, id: IncidentId) -> crate::StoreResult<Option<Incident>> {
        self.incident(id)
    }
    /// The highest incident id ever written, if any.
    fn highest_incident_id(&self) -> crate::StoreResult<Option<IncidentId>>;
    fn incidents(&self, query: &IncidentQuery) -> crate::StoreResult<Vec<Incident>>;
    /// How many incidents of each kind were reported in each region at or after `from` and
    /// before `to` (public ones only, with `public_only`), by region and kind.
    fn incident_counts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        public_only: bool,
    ) -> crate::StoreResult<Vec<(RegionId, IncidentKind, u64)>>;
    /// Every shelter's latest status with the seq of its event, by shelter id.
    fn shelter_statuses(&self) -> crate::StoreResult<Vec<(Seq, ShelterStatus)>>;
    /// The shelter status events at or after `from` and before `to`, oldest first.
    fn shelter_events_between(&self, from: OffsetDateTime, to: OffsetDateTime)
    -> crate::StoreResult<Vec<ShelterEvent>>;
}
