//! Incidents and shelter statuses: reported and changed through the writer (`writer::record`),
//! read from the store's indexes. Who may report is the domain's rule (`Grant::may_respond`);
//! the writer decides against the incident as the store holds it, so two responders changing
//! one incident at once are applied one after the other, each to what the other left.

use time::OffsetDateTime;
use tokio::sync::oneshot;
use tryvoha_core::{
    Actor, AlertId, AlertKind, AlertStatus, Event, Grant, Incident, IncidentChanges, IncidentEvent, IncidentId,
    IncidentReport, RegionId, ShelterDraft, ShelterEvent, ShelterStatus, StatusReport, decide_status, incident,
};
use tryvoha_store::{HistoryOrder, HistoryQuery, IncidentQuery, StoreError};

use crate::writer::{Decide, Message, RecordJob};
use crate::{Engine, EngineError};

/// How many of a place's latest finished alerts are looked through for the air-raid alert an
/// incident belongs to when none is active.
const RECENT_ALERTS: usize = 50;

impl Engine {
    /// Records a new incident. Without an `alert_id`, it belongs to the active air-raid alert
    /// covering its region (the newest, if several), or else to the one that ended last; drills
    /// and tests are never taken for it.
    pub async fn report_incident(
        &self,
        mut report: IncidentReport,
        actor: Actor,
        grant: Grant,
    ) -> Result<IncidentEvent, EngineError> {
        match report.alert_id {
            Some(id) if self.alert(id).await?.is_none() => return Err(EngineError::AlertNotFound { id }),
            Some(_) => {}
            None => report.alert_id = self.alert_covering(report.region_id).await?,
        }
        let registry = self.registry().clone();
        let reporter = actor.clone();
        let decide: Decide = Box::new(move |store, seq, now| {
            let id = store.highest_incident_id().map_err(EngineError::Unavailable)?.map_or(1, |id| id.0 + 1);
            let draft = incident::report(report.clone(), IncidentId(id), reporter.clone(), &grant, &registry, now)?;
            Ok(Some(Event::Incident(draft.into_event(seq))))
        });
        match self.record("report_incident", actor, decide).await? {
            Some(Event::Incident(event)) => Ok(event),
            _ => Err(EngineError::Unavailable(StoreError::Unavailable("no incident was recorded".into()))),
        }
    }

    /// Changes an incident; returns it as it now stands and the event, when anything changed.
    pub async fn update_incident(
        &self,
        id: IncidentId,
        changes: IncidentChanges,
        actor: Actor,
        grant: Grant,
    ) -> Result<(Incident, Option<IncidentEvent>), EngineError> {
        let registry = self.registry().clone();
        let changer = actor.clone();
        let decide: Decide = Box::new(move |store, seq, now| {
            let current = store
                .incident_for_writer(id)
                .map_err(EngineError::Unavailable)?
                .ok_or(EngineError::IncidentNotFound { id })?;
            let draft = incident::update(&current, changes.clone(), changer.clone(), &grant, &registry, now)?;
            Ok(draft.map(|draft| Event::Incident(draft.into_event(seq))))
        });
        match self.record("update_incident", actor, decide).await? {
            Some(Event::Incident(event)) => Ok((event.incident.clone(), Some(event))),
            _ => {
                let current = self.incident(id).await?.ok_or(EngineError::IncidentNotFound { id })?;
                Ok((current, None))
            }
        }
    }

    pub async fn incident(&self, id: IncidentId) -> Result<Option<Incident>, EngineError> {
        self.blocking(move |store| store.incident(id)).await
    }

    pub async fn incidents(&self, query: IncidentQuery) -> Result<Vec<Incident>, EngineError> {
        self.blocking(move |store| store.incidents(&query)).await
    }

    /// Records a shelter's status (its region found by the caller, from where it stands).
    pub async fn set_shelter_status(
        &self,
        report: StatusReport,
        actor: Actor,
        grant: Grant,
    ) -> Result<ShelterEvent, EngineError> {
        let registry = self.registry().clone();
        let reporter = actor.clone();
        let decide: Decide = Box::new(move |_, seq, now| {
            let shelter = decide_status(report.clone(), &grant, &registry, now)?;
            let draft = ShelterDraft { at: now, actor: reporter.clone(), shelter };
            Ok(Some(Event::Shelter(draft.into_event(seq))))
        });
        match self.record("set_shelter_status", actor, decide).await? {
            Some(Event::Shelter(event)) => Ok(event),
            _ => Err(EngineError::Unavailable(StoreError::Unavailable("no status was recorded".into()))),
        }
    }

    /// How many incidents of each kind each region had reported in `[from, to)`.
    pub async fn incident_counts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        public_only: bool,
    ) -> Result<Vec<(RegionId, tryvoha_core::IncidentKind, u64)>, EngineError> {
        self.blocking(move |store| store.incident_counts(from, to, public_only)).await
    }

    /// Every shelter's latest status, with the seq of its event.
    pub async fn shelter_statuses(&self) -> Result<Vec<(tryvoha_core::Seq, ShelterStatus)>, EngineError> {
        self.blocking(|store| store.shelter_statuses()).await
    }

    pub async fn shelter_events_between(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<ShelterEvent>, EngineError> {
        self.blocking(move |store| store.shelter_events_between(from, to)).await
    }

    /// The real air-raid alert on `region` or above it: the newest active one, or else the one
    /// that finished last among the place's recent alerts.
    pub async fn alert_covering(&self, region: RegionId) -> Result<Option<AlertId>, EngineError> {
        let book = self.book();
        let registry = book.registry();
        let active = book
            .active()
            .filter(|alert| alert.kind == AlertKind::AirRaid && alert.status == AlertStatus::Actual)
            .filter(|alert| registry.is_within(region, alert.region_id))
            .max_by_key(|alert| (alert.started_at, alert.id));
        if let Some(alert) = active {
            return Ok(Some(alert.id));
        }
        let regions = std::iter::once(region).chain(registry.ancestors(region)).collect();
        let query = HistoryQuery {
            regions: Some(regions),
            sources: Some(vec!["live".into()]),
            order: HistoryOrder::Latest(RECENT_ALERTS),
            ..HistoryQuery::default()
        };
        let recent = self.history(query).await?;
        Ok(recent
            .iter()
            .filter(|record| record.kind == AlertKind::AirRaid && record.status == AlertStatus::Actual)
            .max_by_key(|record| (record.finished_at, record.id))
            .map(|record| AlertId(record.id)))
    }

    async fn record(&self, action: &'static str, actor: Actor, decide: Decide) -> Result<Option<Event>, EngineError> {
        let (reply, answer) = oneshot::channel();
        let handoff = crate::handoff::current();
        let job = Message::Record(Box::new(RecordJob { action, actor, decide, reply, handoff }));
        self.inner.jobs.send(job).await.map_err(|_| EngineError::ShuttingDown)?;
        answer.await.map_err(|_| EngineError::ShuttingDown)?
    }
}
